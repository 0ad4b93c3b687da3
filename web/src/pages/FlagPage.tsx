import { lazy, Suspense, useState } from 'react';
import { NavLink, Route, Routes, useNavigate, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { flagsApi, type NewFlag } from '../api/endpoints.ts';
import type { Flag } from '../api/types.ts';
import { usePermissions } from '../auth/session.tsx';
import { FlagDefinitionForm } from '../components/FlagDefinitionForm.tsx';
import { Badge, Button, Empty, ErrorBox, Loading, useToast } from '../components/ui.tsx';
import { useEnvironments } from '../lib/environments.ts';
import { formatDateTime } from '../lib/format.ts';
import { useAction, useResource, type Resource } from '../lib/hooks.ts';
import { projectOf, withProject } from '../lib/projects.ts';
import { ProjectBadge, ResourceProject, useProjectPath } from '../auth/projects.tsx';
import { ArchiveDialog, ArchivedPanel, PurgeDialog } from './flag/Archive.tsx';
import { EnvironmentsTab } from './flag/Environments.tsx';
import { HistoryTab } from './flag/History.tsx';
import type { FlagTabProps } from './flag/tab-props.ts';
import { Playground } from './Playground.tsx';

// The drag-and-drop and chart libraries load with the tabs that use them.
const TargetingTab = lazy(() => import('./flag/Targeting.tsx').then((m) => ({ default: m.TargetingTab })));
const AnalyticsTab = lazy(() => import('./flag/Analytics.tsx').then((m) => ({ default: m.AnalyticsTab })));

export function FlagPage() {
  const { key = '' } = useParams();
  const navigate = useNavigate();
  const inProject = useProjectPath();
  const environments = useEnvironments();
  const loaded = useResource(async () => {
    const { data, etag } = await flagsApi.get(key);
    return { flag: data, etag };
  }, [key]);

  if (loaded.error instanceof ApiError && loaded.error.status === 404) {
    return (
      <Empty>
        <h1>No flag “{key}”</h1>
        <p>It may have been purged. Its history stays available to the API.</p>
        <Button onClick={() => void navigate(inProject('/flags'))}>Back to flags</Button>
      </Empty>
    );
  }
  if (!loaded.data || !environments.data) {
    return (
      <>
        <ErrorBox error={loaded.error ?? environments.error} onRetry={loaded.reload} />
        {loaded.error || environments.error ? null : <Loading what="the flag" />}
      </>
    );
  }
  // Its project's roles count on this page, and its project becomes the current one.
  return (
    <ResourceProject project={projectOf(loaded.data.flag)}>
      <FlagDetail loaded={loaded} environments={environments.data} />
    </ResourceProject>
  );
}

interface LoadedFlag {
  flag: Flag;
  etag: string | undefined;
}

function FlagDetail({ loaded, environments }: { loaded: Resource<LoadedFlag>; environments: string[] }) {
  const navigate = useNavigate();
  const toast = useToast();
  const { canEdit, editReason } = usePermissions();
  const key = loaded.data!.flag.key;
  const [editing, setEditing] = useState(false);
  const [archiving, setArchiving] = useState(false);
  const [purging, setPurging] = useState(false);
  const save = useAction(async (definition: NewFlag) => {
    const { key: _key, ...rest } = definition;
    const before = loaded.data?.flag.clientVisible;
    const { data, etag } = await flagsApi.update(key, rest, loaded.data?.etag);
    loaded.setData({ flag: data, etag });
    setEditing(false);
    toast(
      data.clientVisible === before
        ? 'Flag definition saved.'
        : data.clientVisible
          ? 'Flag definition saved: client-side SDKs may now evaluate it.'
          : 'Flag definition saved: only server-side SDKs evaluate it now.',
    );
  });

  const { flag, etag } = loaded.data!;
  const project = projectOf(flag);
  const flagsOfProject = withProject('/flags', project);
  const archived = flag.archivedAt !== null;
  const tabProps: FlagTabProps = { flag, etag, environments, onChanged: loaded.setData, reload: loaded.reload };
  const base = `/flags/${encodeURIComponent(flag.key)}`;
  const tab = (to: string, label: string) => (
    <NavLink to={to ? `${base}/${to}` : base} end className="tab" data-testid={`tab-${label.toLowerCase()}`}>
      {label}
    </NavLink>
  );

  return (
    <section aria-labelledby="flag-title" data-testid="flag-page">
      <div className="page-head">
        <div>
          <p className="breadcrumb">
            <NavLink to={flagsOfProject}>Flags</NavLink> / <ProjectBadge project={project} />
          </p>
          <h1 id="flag-title">
            {flag.name} <code className="flag-key">{flag.key}</code>
            {archived ? (
              <>
                {' '}
                <Badge tone="warn" testId="flag-archived">
                  Archived
                </Badge>
              </>
            ) : null}
          </h1>
          <p className="flag-meta">
            <Badge tone="info">{flag.type}</Badge>
            <ClientVisibility flag={flag} />
            {flag.tags.map((t) => (
              <span key={t} className="tag">
                {t}
              </span>
            ))}
            <span className="muted">
              version {flag.version} · updated {formatDateTime(flag.updatedAt)}
            </span>
          </p>
          {flag.description ? <p className="flag-description">{flag.description}</p> : null}
        </div>
        {archived ? null : (
          <div className="page-actions">
            <Button onClick={() => setEditing((e) => !e)} disabledReason={canEdit ? undefined : editReason} data-testid="edit-flag">
              {editing ? 'Close editor' : 'Edit definition'}
            </Button>
            <Button
              variant="danger"
              onClick={() => setArchiving(true)}
              disabledReason={canEdit ? undefined : editReason}
              data-testid="archive-flag"
            >
              Archive
            </Button>
          </div>
        )}
      </div>
      {archived ? (
        <ArchivedPanel
          flag={flag}
          etag={etag}
          environments={environments}
          onRestored={(restored) => {
            loaded.setData(restored);
            toast(`Flag ${flag.key} restored: SDKs get it again within a second.`);
          }}
          onPurge={() => setPurging(true)}
        />
      ) : null}
      {editing && !archived ? (
        <FlagDefinitionForm
          existing={flag}
          onSubmit={(d) => void save.run(d)}
          busy={save.busy}
          error={save.error}
          submitLabel="Save definition"
          onCancel={() => setEditing(false)}
        />
      ) : null}
      {archived ? (
        // An archived flag changes nothing until restored: what it was (history) and what it served (analytics).
        <>
          <nav className="tabs" aria-label="Flag sections">
            {tab('', 'History')}
            {tab('analytics', 'Analytics')}
          </nav>
          <Suspense fallback={<Loading what="the section" />}>
            <Routes>
              <Route path="analytics" element={<AnalyticsTab {...tabProps} />} />
              <Route path="*" element={<HistoryTab {...tabProps} />} />
            </Routes>
          </Suspense>
        </>
      ) : (
        <>
          <nav className="tabs" aria-label="Flag sections">
            {tab('', 'Environments')}
            {tab('targeting', 'Targeting')}
            {tab('playground', 'Playground')}
            {tab('history', 'History')}
            {tab('analytics', 'Analytics')}
          </nav>
          <Suspense fallback={<Loading what="the section" />}>
            <Routes>
              <Route index element={<EnvironmentsTab {...tabProps} />} />
              <Route path="targeting" element={<TargetingTab {...tabProps} />} />
              <Route path="playground" element={<Playground fixedFlag={flag} environments={environments} />} />
              <Route path="history" element={<HistoryTab {...tabProps} />} />
              <Route path="analytics" element={<AnalyticsTab {...tabProps} />} />
            </Routes>
          </Suspense>
        </>
      )}
      <ArchiveDialog
        flag={flag}
        etag={etag}
        open={archiving}
        onDone={() => {
          setArchiving(false);
          toast(`Flag ${flag.key} archived: SDKs get FLAG_NOT_FOUND within a second. Restore it from the archived flags.`);
          // The flag's project is the current one by now: the list is its project's.
          void navigate('/flags');
        }}
        onCancel={() => setArchiving(false)}
      />
      <PurgeDialog
        flag={flag}
        etag={etag}
        open={purging}
        onDone={() => {
          setPurging(false);
          toast(`Flag ${flag.key} purged.`);
          void navigate('/flags?archived=1');
        }}
        onCancel={() => setPurging(false)}
      />
    </section>
  );
}

/** Whether client keys (web pages, apps) may evaluate the flag; it is changed with the definition. */
function ClientVisibility({ flag }: { flag: Flag }) {
  return flag.clientVisible ? (
    <Badge
      tone="info"
      testId="flag-client-visibility"
      title="Client keys (web pages, mobile apps) may evaluate this flag, as server keys do."
    >
      Available to client-side SDKs
    </Badge>
  ) : (
    <Badge testId="flag-client-visibility" title="Only server keys evaluate this flag: client keys (web pages, mobile apps) do not see it.">
      Server-side SDKs only
    </Badge>
  );
}
