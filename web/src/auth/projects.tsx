import { useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { Link, useLocation, useNavigate } from 'react-router';
import { projectsApi } from '../api/endpoints.ts';
import type { Project } from '../api/types.ts';
import { Badge } from '../components/ui.tsx';
import { useResource } from '../lib/hooks.ts';
import { chooseProject, defaultProject, isProjectKey, projectLabel, switchTarget, withProject } from '../lib/projects.ts';
import { ProjectContext, ResourceProjectContext, type ProjectState } from './project-context.ts';
import { useSession } from './session.tsx';

/** Where the current project is remembered between visits: per account, so people sharing a browser keep their own. */
const storageKeyFor = (sub: string) => `togglemaster.project.${sub}`;

function readRemembered(key: string | undefined): string | undefined {
  if (!key) return undefined;
  try {
    return localStorage.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the current project (URL, else remembered, else default) and the person's projects, for a signed-in session. */
export function ProjectProvider({ children }: { children: ReactNode }) {
  const { state } = useSession();
  const sub = state.status === 'signed-in' ? state.me.sub : undefined;
  const storageKey = sub ? storageKeyFor(sub) : undefined;
  const location = useLocation();
  const navigate = useNavigate();
  const [remembered, setRemembered] = useState<string | undefined>(() => readRemembered(storageKey));
  const list = useResource(async (signal) => (sub ? (await projectsApi.list(signal)).data.items : undefined), [sub]);

  const fromUrl = new URLSearchParams(location.search).get('project');
  const current = chooseProject(fromUrl, remembered, list.data);

  const remember = useCallback(
    (project: string) => {
      setRemembered(project);
      try {
        if (storageKey) localStorage.setItem(storageKey, project);
      } catch {
        // Storage refused (private mode): remembered for this tab only.
      }
    },
    [storageKey],
  );

  // A link that names a project makes it the current one, for the pages opened next too.
  useEffect(() => {
    if (fromUrl && isProjectKey(fromUrl) && fromUrl !== remembered) remember(fromUrl);
  }, [fromUrl, remembered, remember]);

  const switchTo = useCallback(
    (project: string) => {
      remember(project);
      void navigate(switchTarget(location.pathname, location.search, project));
    },
    [remember, navigate, location.pathname, location.search],
  );

  const follow = useCallback(
    (project: string) => {
      remember(project);
      // The URL's project wins over the remembered one: a page that names another is brought in line.
      if (fromUrl && fromUrl !== project)
        void navigate(
          { pathname: location.pathname, search: withProject(location.search, project), hash: location.hash },
          { replace: true },
        );
    },
    [remember, navigate, fromUrl, location.pathname, location.search, location.hash],
  );

  const value = useMemo<ProjectState>(
    () => ({ current, projects: list.data, error: list.error, reload: list.reload, switchTo, follow }),
    [current, list.data, list.error, list.reload, switchTo, follow],
  );
  return <ProjectContext.Provider value={value}>{children}</ProjectContext.Provider>;
}

export function useProjects(): ProjectState {
  const value = useContext(ProjectContext);
  if (!value) throw new Error('useProjects outside ProjectProvider');
  return value;
}

/** `path` in the current project (a list's link). */
export function useProjectPath(): (path: string) => string {
  const { current } = useProjects();
  return useCallback((path: string) => withProject(path, current), [current]);
}

/**
 * A page of one resource: inside, permissions count the person's role in the resource's project, and that project
 * becomes the current one (the switcher and the navigation follow it).
 */
export function ResourceProject({ project, children }: { project: string; children: ReactNode }) {
  const { follow } = useProjects();
  useEffect(() => follow(project), [project, follow]);
  return <ResourceProjectContext.Provider value={project}>{children}</ResourceProjectContext.Provider>;
}

/** The project's name, or its key until the list is known. */
export function useProjectName(key: string): string {
  const { projects } = useProjects();
  const project = projects?.find((p) => p.key === key);
  return project ? project.name || key : key;
}

/** "Project: Payments", on a page of one resource; links to the project. */
export function ProjectBadge({ project }: { project: string }) {
  const name = useProjectName(project);
  return (
    <Link to={`/projects/${encodeURIComponent(project)}`} className="project-badge" data-testid="resource-project" data-project={project}>
      <Badge tone="info" title={`In project ${project}`}>
        Project: {name}
      </Badge>
    </Link>
  );
}

/** The header's menu of the person's projects: choosing one makes it current. */
export function ProjectSwitcher() {
  const { current, projects, error, switchTo } = useProjects();
  const options: Pick<Project, 'key' | 'name' | 'role'>[] = projects ? [...projects] : [];
  // Until the list arrives (or when it could not be had, or names a project the person has no role in): the current one alone.
  if (!options.some((p) => p.key === current))
    options.unshift({ key: current, name: current === defaultProject ? 'Default' : current, role: null });
  return (
    <label className="project-switcher" title={error ? 'Your projects could not be listed; reload the page to try again.' : undefined}>
      <span className="project-switcher-label">Project</span>
      <select value={current} onChange={(e) => switchTo(e.target.value)} data-testid="project-switcher" aria-label="Current project">
        {options.map((p) => (
          <option key={p.key} value={p.key}>
            {projectLabel(p)}
            {p.role ? ` · ${p.role}` : ''}
          </option>
        ))}
      </select>
    </label>
  );
}
