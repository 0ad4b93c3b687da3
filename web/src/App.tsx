import { useEffect, useState } from 'react';
import { Navigate, NavLink, Outlet, Route, Routes, useLocation } from 'react-router';
import { useSession, usePermissions } from './auth/session.tsx';
import { ProjectProvider, ProjectSwitcher, useProjectPath } from './auth/projects.tsx';
import { ActivityBar, Loading } from './components/ui.tsx';
import { SignInPage } from './pages/SignIn.tsx';
import { AcceptInvitationPage, InvitationWhileSignedIn } from './pages/AcceptInvitation.tsx';
import { FlagsListPage } from './pages/FlagsList.tsx';
import { CreateFlagPage } from './pages/CreateFlag.tsx';
import { FlagPage } from './pages/FlagPage.tsx';
import { SegmentsPage } from './pages/Segments.tsx';
import { PlaygroundPage } from './pages/Playground.tsx';
import { ApiKeysPage } from './pages/ApiKeys.tsx';
import { UsersPage } from './pages/Users.tsx';
import { WebhooksPage } from './pages/Webhooks.tsx';
import { EnvironmentsPage } from './pages/Environments.tsx';
import { NotFoundPage } from './pages/NotFound.tsx';
import { ProjectPage, ProjectsPage } from './pages/Projects.tsx';
import { ChangeRequestPage, ChangeRequestsNavLink, ChangeRequestsPage } from './pages/ChangeRequests.tsx';

export function App() {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === 'checking') return <Loading what="your session" />;
  if (state.status === 'signed-out') {
    return (
      <>
        <ActivityBar />
        <Routes>
          <Route path="/signin" element={<SignInPage reason={state.reason} />} />
          {/* An invitation's link: open without an account, which it creates. */}
          <Route path="/invitations/accept" element={<AcceptInvitationPage />} />
          <Route path="*" element={<Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />} />
        </Routes>
      </>
    );
  }
  return (
    <ProjectProvider>
      <Routes>
        <Route path="/signin" element={<Navigate to={(location.state as { from?: string } | null)?.from ?? '/flags'} replace />} />
        <Route path="/invitations/accept" element={<InvitationWhileSignedIn />} />
        <Route element={<Shell />}>
          <Route index element={<Navigate to="/flags" replace />} />
          <Route path="/flags" element={<FlagsListPage />} />
          <Route path="/flags/new" element={<CreateFlagPage />} />
          <Route path="/flags/:key/*" element={<FlagPage />} />
          <Route path="/segments/*" element={<SegmentsPage />} />
          <Route path="/playground" element={<PlaygroundPage />} />
          <Route path="/change-requests" element={<ChangeRequestsPage />} />
          <Route path="/change-requests/:id" element={<ChangeRequestPage />} />
          <Route path="/api-keys" element={<ApiKeysPage />} />
          <Route path="/users" element={<UsersPage />} />
          <Route path="/webhooks" element={<WebhooksPage />} />
          <Route path="/environments" element={<EnvironmentsPage />} />
          <Route path="/projects" element={<ProjectsPage />} />
          <Route path="/projects/:project" element={<ProjectPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Route>
      </Routes>
    </ProjectProvider>
  );
}

function Shell() {
  const { signOut } = useSession();
  const { me, role, project, canEdit, canAdmin, isOrgAdmin } = usePermissions();
  const inProject = useProjectPath();
  const [menuOpen, setMenuOpen] = useState(false);
  const location = useLocation();
  useEffect(() => setMenuOpen(false), [location.pathname]);
  return (
    <div className="shell">
      <ActivityBar />
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to={inProject('/flags')} className="brand" aria-label="ToggleMaster home">
          <img src="/console/favicon.svg" alt="" width={24} height={24} />
          <span className="brand-name">ToggleMaster</span>
        </NavLink>
        <button
          type="button"
          className="btn btn-ghost menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen((o) => !o)}
        >
          Menu
        </button>
        <nav id="main-nav" className={`nav${menuOpen ? ' open' : ''}`} aria-label="Main">
          <NavLink to={inProject('/flags')}>Flags</NavLink>
          <NavLink to={inProject('/segments')}>Segments</NavLink>
          <NavLink to={inProject('/playground')}>Playground</NavLink>
          <ChangeRequestsNavLink />
          {canEdit ? <NavLink to={inProject('/api-keys')}>API keys</NavLink> : null}
          {canAdmin ? <NavLink to={inProject('/webhooks')}>Webhooks</NavLink> : null}
          <NavLink to="/projects" data-testid="nav-projects">
            Projects
          </NavLink>
          {isOrgAdmin ? <NavLink to="/users">Users</NavLink> : null}
          {isOrgAdmin ? <NavLink to="/environments">Environments</NavLink> : null}
        </nav>
        <ProjectSwitcher />
        <div className="me" data-testid="me">
          <span className="me-email" title={me.email}>
            {me.name ?? me.email}
          </span>
          {/* The role that counts on these pages: the one in the current project. */}
          <span
            className={`badge badge-role badge-${role ?? 'none'}`}
            title={isOrgAdmin ? 'Organisation admin: admin of every project' : `Your role in project ${project} (account role: ${me.role})`}
            data-testid="my-role"
          >
            {role ?? 'no role'}
          </span>
          <button type="button" className="btn btn-ghost btn-small" onClick={() => signOut()} data-testid="sign-out">
            Sign out
          </button>
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
