import type { Project, ProjectMember, Role, User } from '../api/types.ts';

/**
 * Projects in the console: which one is current (the URL's `?project=`, else the one remembered, else the default),
 * the signed-in person's role there, what that role lets them do, and where a switch of project leads. The services
 * judge every call; this only keeps controls that can only fail away.
 */

/** The project that holds everything made before there were projects (shared/contracts/project-model.ts). */
export const defaultProject = 'default';

/** A project's key, as the services check it. */
export const projectKeyPattern = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/;

export function isProjectKey(text: string): boolean {
  return text.length >= 1 && text.length <= 64 && projectKeyPattern.test(text);
}

/**
 * A document's project (one written before projects has none: the default project). Any object: a service whose
 * contract does not name `project` yet answers without it.
 */
export function projectOf(document: object): string {
  return 'project' in document && typeof document.project === 'string' ? document.project : defaultProject;
}

const rank: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

/** Whether `role` is at least `minimum` (no role is below every role). */
export function atLeast(role: Role | undefined, minimum: Role): boolean {
  return role !== undefined && rank[role] >= rank[minimum];
}

/**
 * The person's role in `project`: an organisation admin (account role admin) is admin everywhere; otherwise the role
 * the projects list says; before that list arrived (or when it could not be had), the account role in the default
 * project — as the services count it — and nothing known elsewhere.
 */
export function roleInProject(
  accountRole: Role,
  project: string,
  projects: readonly Pick<Project, 'key' | 'role'>[] | undefined,
): Role | undefined {
  if (accountRole === 'admin') return 'admin';
  const listed = projects?.find((p) => p.key === project);
  if (listed) return listed.role ?? undefined;
  if (projects === undefined && project === defaultProject) return accountRole;
  return undefined;
}

/**
 * The current project: the URL's (a link names it), else the one remembered from before — while the person still
 * has a role there, once the list says so — else the default project.
 */
export function chooseProject(
  fromUrl: string | null | undefined,
  remembered: string | null | undefined,
  projects: readonly Pick<Project, 'key'>[] | undefined,
): string {
  if (fromUrl && isProjectKey(fromUrl)) return fromUrl;
  if (remembered && isProjectKey(remembered) && (projects === undefined || projects.some((p) => p.key === remembered))) return remembered;
  return defaultProject;
}

/** `path` (a console path, maybe with a query and a fragment) with `?project=` set to `project`. */
export function withProject(path: string, project: string): string {
  const hashAt = path.indexOf('#');
  const hash = hashAt === -1 ? '' : path.slice(hashAt);
  const beforeHash = hashAt === -1 ? path : path.slice(0, hashAt);
  const queryAt = beforeHash.indexOf('?');
  const pathname = queryAt === -1 ? beforeHash : beforeHash.slice(0, queryAt);
  const params = new URLSearchParams(queryAt === -1 ? '' : beforeHash.slice(queryAt + 1));
  params.set('project', project);
  return `${pathname}?${params.toString()}${hash}`;
}

/** The pages whose content belongs to a project (their links carry `?project=`); the others are the organisation's. */
const projectPages = ['/flags', '/segments', '/playground', '/change-requests', '/api-keys', '/webhooks'];

export function isProjectPage(pathname: string): boolean {
  return projectPages.some((page) => pathname === page || pathname.startsWith(`${page}/`));
}

/** A page of one resource, with the list it belongs to: after a switch, that resource is not in the new project. */
const resourcePages: { pattern: RegExp; list: string }[] = [
  { pattern: /^\/flags\/(?!new$)[^/]+(\/.*)?$/, list: '/flags' },
  { pattern: /^\/segments\/(?!new$)[^/]+$/, list: '/segments' },
  { pattern: /^\/change-requests\/[^/]+$/, list: '/change-requests' },
];

/** Query parameters that name one resource of the project being left (a webhook, a flag's requests, a page cursor). */
const resourceParams = ['webhook', 'flag', 'cursor'];

/**
 * Where switching to `project` leads from `pathname` + `search`: a list or a create page stays, in the new project
 * (its filters kept, what named a resource of the old one dropped); a page of one resource goes to its list there;
 * an organisation page (users, environments, projects) stays as it is.
 */
export function switchTarget(pathname: string, search: string, project: string): string {
  const resource = resourcePages.find((r) => r.pattern.test(pathname));
  if (resource) return withProject(resource.list, project);
  if (!isProjectPage(pathname)) return `${pathname}${search}`;
  const params = new URLSearchParams(search);
  for (const name of resourceParams) params.delete(name);
  const text = params.toString();
  return withProject(`${pathname}${text ? `?${text}` : ''}`, project);
}

/** What the signed-in person may do in a project, and why not, in words. */
export interface ProjectPermissions {
  project: string;
  role: Role | undefined;
  /** Change flags, rules, segments and SDK keys. */
  canEdit: boolean;
  /** Manage the project: webhooks, members, its name; purge flags. */
  canAdmin: boolean;
  /** "Your role is viewer" (the default project), "Your role in project payments is viewer", "You have no role in project payments". */
  rolePhrase: string;
  /** Why an edit control is disabled. */
  editReason: string;
  /** Why an admin control is disabled. */
  adminReason: string;
}

export function permissionsIn(project: string, role: Role | undefined): ProjectPermissions {
  const rolePhrase =
    role === undefined
      ? `You have no role in project ${project}`
      : project === defaultProject
        ? `Your role is ${role}`
        : `Your role in project ${project} is ${role}`;
  return {
    project,
    role,
    canEdit: atLeast(role, 'editor'),
    canAdmin: atLeast(role, 'admin'),
    rolePhrase,
    editReason: `${rolePhrase}: changes need the editor or admin role.`,
    adminReason: `${rolePhrase}: this needs the admin role.`,
  };
}

/** A project in a list or a menu: "Payments (payments)", or its key alone when it is its name. */
export function projectLabel(project: Pick<Project, 'key' | 'name'>): string {
  return project.name && project.name !== project.key ? `${project.name} (${project.key})` : project.key;
}

/** What a new project's form would send, or what is wrong with it, field by field. */
export function checkNewProject(draft: {
  key: string;
  name: string;
  description: string;
}):
  | { ok: true; project: { key: string; name: string; description?: string } }
  | { ok: false; errors: { key?: string; name?: string; description?: string } } {
  const key = draft.key.trim();
  const name = draft.name.trim();
  const description = draft.description.trim();
  const errors: { key?: string; name?: string; description?: string } = {};
  if (!isProjectKey(key)) errors.key = 'Lower-case letters and digits, with - or _ between them (like payments or team-web), at most 64';
  if (!name) errors.name = 'A name is required';
  else if (name.length > 100) errors.name = 'At most 100 characters';
  if (description.length > 1000) errors.description = 'At most 1000 characters';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, project: { key, name, ...(description ? { description } : {}) } };
}

/** What a rename sends: only the fields that changed (empty: nothing to save). */
export function projectPatch(
  current: Pick<Project, 'name' | 'description'>,
  draft: { name: string; description: string },
): { name?: string; description?: string } {
  const patch: { name?: string; description?: string } = {};
  if (draft.name.trim() && draft.name.trim() !== current.name) patch.name = draft.name.trim();
  if (draft.description.trim() !== current.description) patch.description = draft.description.trim();
  return patch;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `text` is a user id (a UUID), as a project admin who cannot list accounts types it. */
export function isUserId(text: string): boolean {
  return uuidPattern.test(text.trim());
}

/** The accounts an organisation admin may add to a project: enabled, not members yet, by e-mail. */
export function addableUsers(users: readonly User[], members: readonly Pick<ProjectMember, 'userId'>[]): User[] {
  const taken = new Set(members.map((m) => m.userId));
  return users.filter((u) => !u.disabled && !taken.has(u.id)).sort((a, b) => a.email.localeCompare(b.email));
}

/**
 * A warning before the person changes their own membership: lowering or removing their own admin role in a project
 * they are not organisation admin of takes the page away from them.
 */
export function selfChangeWarning(
  member: Pick<ProjectMember, 'userId'>,
  me: { sub: string; role: Role },
  next: Role | 'removed',
): string | undefined {
  if (member.userId !== me.sub || me.role === 'admin' || next === 'admin') return undefined;
  return next === 'removed'
    ? 'This is you: once removed, you no longer see this project.'
    : `This is you: as ${next} you no longer manage this project’s members or settings.`;
}
