import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError } from '../api/client.ts';
import { authApi, projectsApi } from '../api/endpoints.ts';
import type { Project, ProjectMember, Role, User } from '../api/types.ts';
import { ResourceProjectContext } from '../auth/project-context.ts';
import { useProjects } from '../auth/projects.tsx';
import { usePermissions } from '../auth/session.tsx';
import { Badge, Button, ConfirmDialog, Empty, ErrorBox, Field, Loading, ReadOnlyNote, RoleSelect, useToast } from '../components/ui.tsx';
import { formatDateTime, relativeTime } from '../lib/format.ts';
import { useAction, useResource } from '../lib/hooks.ts';
import { addableUsers, checkNewProject, defaultProject, isUserId, projectPatch, selfChangeWarning, withProject } from '../lib/projects.ts';
import './Projects.css';

/** The projects the person holds a role in, with that role; organisation admins create them. */
export function ProjectsPage() {
  const { isOrgAdmin } = usePermissions();
  const { projects, error, reload, current } = useProjects();
  const navigate = useNavigate();
  // Roles may have changed since the console opened (a membership granted meanwhile): ask again.
  useEffect(() => reload(), [reload]);

  return (
    <section aria-labelledby="projects-title" data-testid="projects-page">
      <div className="page-head">
        <h1 id="projects-title">Projects</h1>
      </div>
      <p className="field-hint">
        A project holds flags, segments, SDK keys and webhooks, and the roles people have in them: a viewer reads, an editor changes flags,
        rules, segments and SDK keys, an admin also manages its webhooks, members and name. The <code>default</code> project holds what was
        made before there were projects; there, a person without a membership has their account role. Organisation admins are admins of
        every project.
      </p>
      {isOrgAdmin ? <NewProjectForm onCreated={reload} /> : null}
      <ErrorBox error={error} onRetry={reload} />
      {!projects ? (
        error ? null : (
          <Loading what="projects" />
        )
      ) : projects.length === 0 ? (
        <Empty>You hold no role in any project yet: ask an organisation admin.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-labelledby="projects-title" data-testid="projects-table">
            <thead>
              <tr>
                <th scope="col">Project</th>
                <th scope="col">Description</th>
                <th scope="col">Your role</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {projects.map((p) => (
                <tr key={p.key} data-testid={`project-row-${p.key}`} aria-current={p.key === current ? 'true' : undefined}>
                  <td>
                    <Link to={`/projects/${encodeURIComponent(p.key)}`} className="flag-link" data-testid={`project-open-${p.key}`}>
                      <strong>{p.name}</strong>
                      <code>{p.key}</code>
                    </Link>
                  </td>
                  <td className="project-description">{p.description || <span className="muted">—</span>}</td>
                  <td>
                    <RoleBadge role={p.role} testId={`project-role-${p.key}`} />
                  </td>
                  <td title={formatDateTime(p.createdAt)}>{relativeTime(p.createdAt)}</td>
                  <td>
                    {p.key === current ? (
                      <Badge tone="on" testId={`project-current-${p.key}`}>
                        current
                      </Badge>
                    ) : (
                      <Button small onClick={() => void navigate(withProject('/flags', p.key))} data-testid={`project-switch-${p.key}`}>
                        Switch to it
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function RoleBadge({ role, testId }: { role: Role | null | undefined; testId?: string }) {
  return role ? (
    <span className={`badge badge-role badge-${role}`} data-testid={testId}>
      {role}
    </span>
  ) : (
    <Badge testId={testId}>no role</Badge>
  );
}

/** Organisation admins: a project's key (fixed), name and description. */
function NewProjectForm({ onCreated }: { onCreated: () => void }) {
  const toast = useToast();
  const [draft, setDraft] = useState({ key: '', name: '', description: '' });
  const [submitted, setSubmitted] = useState(false);
  const checked = checkNewProject(draft);
  const errors = submitted && !checked.ok ? checked.errors : {};
  const create = useAction(async (project: { key: string; name: string; description?: string }) => {
    const { data } = await projectsApi.create(project);
    toast(`Project ${data.key} created. Add its members on its page, then switch to it to make flags there.`);
    setDraft({ key: '', name: '', description: '' });
    setSubmitted(false);
    onCreated();
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setSubmitted(true);
    if (checked.ok) void create.run(checked.project);
  };
  const set = (field: keyof typeof draft) => (value: string) => setDraft((d) => ({ ...d, [field]: value }));
  return (
    <form className="card form" onSubmit={submit} noValidate data-testid="project-form" aria-labelledby="new-project-title">
      <h2 id="new-project-title">New project</h2>
      <div className="form-grid">
        <Field label="Key" hint="Lower-case letters and digits, with - or _ between them; cannot change later." error={errors.key}>
          <input
            type="text"
            className="code"
            value={draft.key}
            onChange={(e) => set('key')(e.target.value.trim().toLowerCase())}
            maxLength={64}
            placeholder="payments"
            data-testid="project-key"
          />
        </Field>
        <Field label="Name" error={errors.name}>
          <input
            type="text"
            value={draft.name}
            onChange={(e) => set('name')(e.target.value)}
            maxLength={100}
            placeholder="Payments"
            data-testid="project-name"
          />
        </Field>
        <Field label="Description" className="span-2" error={errors.description}>
          <textarea
            rows={2}
            value={draft.description}
            onChange={(e) => set('description')(e.target.value)}
            maxLength={1000}
            data-testid="project-description"
          />
        </Field>
      </div>
      <ErrorBox error={create.error} title="Not created" />
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={create.busy} busyLabel="Creating…" data-testid="project-create">
          Create project
        </Button>
      </div>
    </form>
  );
}

/** One project: its name and description (its admins change them), its members (its admins manage them), deleting it. */
export function ProjectPage() {
  const { project: key = '' } = useParams();
  const loaded = useResource(
    async (signal) => {
      const { data, etag } = await projectsApi.get(key, signal);
      return { project: data, etag };
    },
    [key],
  );
  if (loaded.error instanceof ApiError && (loaded.error.status === 404 || loaded.error.status === 403)) {
    return (
      <Empty>
        <h1>No project “{key}” for you</h1>
        <p>It does not exist, or you hold no role in it: an organisation admin or one of its admins can add you.</p>
        <p>
          <Link to="/projects">Back to your projects</Link>
        </p>
      </Empty>
    );
  }
  if (!loaded.data) {
    return (
      <>
        <ErrorBox error={loaded.error} onRetry={loaded.reload} />
        {loaded.error ? null : <Loading what="the project" />}
      </>
    );
  }
  // Permissions on this page are the person's role in this project (the current project stays as it was).
  return (
    <ResourceProjectContext.Provider value={loaded.data.project.key}>
      <ProjectDetail
        project={loaded.data.project}
        etag={loaded.data.etag}
        onChanged={(project, etag) => loaded.setData({ project, etag })}
      />
    </ResourceProjectContext.Provider>
  );
}

function ProjectDetail({
  project,
  etag,
  onChanged,
}: {
  project: Project;
  etag: string | undefined;
  onChanged: (project: Project, etag: string | undefined) => void;
}) {
  const { canAdmin, isOrgAdmin, rolePhrase, role } = usePermissions();
  const { current, follow, reload } = useProjects();
  const navigate = useNavigate();
  const toast = useToast();
  const [deleting, setDeleting] = useState(false);
  const remove = useAction(async () => {
    await projectsApi.delete(project.key);
    setDeleting(false);
    toast(`Project ${project.key} deleted.`);
    reload();
    if (current === project.key) follow(defaultProject);
    void navigate('/projects');
  });

  return (
    <section aria-labelledby="project-title" data-testid="project-page" data-project={project.key}>
      <div className="page-head">
        <div>
          <p className="breadcrumb">
            <Link to="/projects">Projects</Link> /
          </p>
          <h1 id="project-title">
            {project.name} <code className="flag-key">{project.key}</code> <RoleBadge role={role} testId="project-my-role" />
          </h1>
          {project.description ? <p className="flag-description">{project.description}</p> : null}
          <p className="muted">
            created {formatDateTime(project.createdAt)} · updated {formatDateTime(project.updatedAt)}
          </p>
        </div>
        <div className="page-actions">
          {project.key === current ? (
            <Badge tone="on">current project</Badge>
          ) : (
            <Button onClick={() => void navigate(withProject('/flags', project.key))} data-testid="project-page-switch">
              Switch to it
            </Button>
          )}
          {isOrgAdmin && project.key !== defaultProject ? (
            <Button variant="danger" onClick={() => setDeleting(true)} data-testid="project-delete">
              Delete…
            </Button>
          ) : null}
        </div>
      </div>
      {canAdmin ? (
        <ProjectSettings project={project} etag={etag} onChanged={onChanged} />
      ) : (
        <ReadOnlyNote reason={`${rolePhrase}: a project’s name, description and members are managed by its admins.`} />
      )}
      {canAdmin ? <Members project={project} /> : null}
      <ConfirmDialog
        open={deleting}
        title={`Delete project ${project.key}?`}
        confirmLabel="Delete project"
        danger
        busy={remove.busy}
        error={remove.error}
        typeToConfirm={project.key}
        onConfirm={() => void remove.run()}
        onCancel={() => {
          setDeleting(false);
          remove.clear();
        }}
      >
        <p>
          Only an empty project is deleted: while it holds flags (archived ones too), segments, live SDK keys, webhooks or members, the
          service refuses and says what is left.
        </p>
      </ConfirmDialog>
    </section>
  );
}

/** Its admins: rename it, change its description. */
function ProjectSettings({
  project,
  etag,
  onChanged,
}: {
  project: Project;
  etag: string | undefined;
  onChanged: (project: Project, etag: string | undefined) => void;
}) {
  const toast = useToast();
  const { reload } = useProjects();
  const [name, setName] = useState(project.name);
  const [description, setDescription] = useState(project.description);
  const patch = projectPatch(project, { name, description });
  const dirty = Object.keys(patch).length > 0;
  const save = useAction(async () => {
    const answer = await projectsApi.update(project.key, patch, etag);
    onChanged(answer.data, answer.etag);
    reload();
    toast('Project saved.');
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (dirty && name.trim()) void save.run();
  };
  return (
    <form className="card form" onSubmit={submit} noValidate data-testid="project-settings" aria-labelledby="project-settings-title">
      <h2 id="project-settings-title">Name and description</h2>
      <div className="form-grid">
        <Field label="Name" error={name.trim() ? undefined : 'A name is required'}>
          <input type="text" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} data-testid="project-rename" />
        </Field>
        <Field label="Description" className="span-2">
          <textarea
            rows={2}
            value={description}
            onChange={(e) => setDescription(e.target.value)}
            maxLength={1000}
            data-testid="project-edit-description"
          />
        </Field>
      </div>
      <ErrorBox error={save.error} title="Not saved" />
      <div className="form-actions">
        <Button
          type="submit"
          variant="primary"
          busy={save.busy}
          busyLabel="Saving…"
          disabled={!dirty || !name.trim()}
          data-testid="project-save"
        >
          Save
        </Button>
      </div>
    </form>
  );
}

/** Its admins: who holds which role in it; change a role, remove a person, add one. */
function Members({ project }: { project: Project }) {
  const { me, isOrgAdmin } = usePermissions();
  const { reload: reloadProjects } = useProjects();
  const toast = useToast();
  const members = useResource(async (signal) => (await authApi.members(project.key, signal)).data.items, [project.key]);
  // Only organisation admins list accounts; a project's admin adds a person by their user id.
  const users = useResource(async () => (isOrgAdmin ? (await authApi.users()).data.items : []), [isOrgAdmin]);
  const [removing, setRemoving] = useState<ProjectMember | undefined>(undefined);
  const [lowering, setLowering] = useState<{ member: ProjectMember; role: Role } | undefined>(undefined);

  const put = (member: ProjectMember) => {
    const list = members.data ?? [];
    members.setData(
      list.some((m) => m.userId === member.userId) ? list.map((m) => (m.userId === member.userId ? member : m)) : [...list, member],
    );
  };
  const setRole = useAction(async (member: Pick<ProjectMember, 'userId' | 'email'>, role: Role) => {
    const { data } = await authApi.setMember(project.key, member.userId, role);
    // Some answers may leave out who it is: keep what the list knew.
    put({ ...data, email: data.email || member.email });
    setLowering(undefined);
    if (member.userId === me.sub) reloadProjects();
    toast(`${data.email || member.email} is now ${role} in ${project.key}.`);
  });
  const remove = useAction(async (member: ProjectMember) => {
    await authApi.removeMember(project.key, member.userId);
    members.setData((members.data ?? []).filter((m) => m.userId !== member.userId));
    setRemoving(undefined);
    if (member.userId === me.sub) reloadProjects();
    toast(`${member.email} no longer has a role in ${project.key}.`);
  });
  const change = (member: ProjectMember, role: Role) => {
    if (selfChangeWarning(member, me, role)) setLowering({ member, role });
    else void setRole.run(member, role);
  };

  return (
    <section className="project-members" aria-labelledby="members-title" data-testid="project-members">
      <h2 id="members-title">Members</h2>
      <p className="field-hint">
        The people holding a role in {project.name}. Organisation admins are admins here without being listed.
        {project.key === defaultProject ? ' In the default project, a person who is not listed has their account role.' : ''}
      </p>
      <AddMember
        project={project}
        users={isOrgAdmin ? addableUsers(users.data ?? [], members.data ?? []) : undefined}
        usersError={users.error}
        busy={setRole.busy}
        onAdd={(user, role) => void setRole.run(user, role)}
      />
      <ErrorBox error={setRole.error} title="Not changed" />
      <ErrorBox error={members.error} onRetry={members.reload} />
      {!members.data ? (
        members.error ? null : (
          <Loading what="members" />
        )
      ) : members.data.length === 0 ? (
        <Empty>Nobody holds a role here yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table className="table" aria-labelledby="members-title" data-testid="members-table">
            <thead>
              <tr>
                <th scope="col">Person</th>
                <th scope="col">Role</th>
                <th scope="col">Since</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {members.data.map((m) => (
                <tr key={m.userId} data-testid={`member-row-${m.email}`}>
                  <td>
                    <strong>{m.name ?? m.email}</strong>
                    {m.name ? <div className="muted">{m.email}</div> : null}
                    {m.userId === me.sub ? <Badge tone="info">you</Badge> : null}
                  </td>
                  <td>
                    <RoleSelect
                      label={`Role of ${m.email} in ${project.key}`}
                      value={m.role}
                      disabled={setRole.busy}
                      onChange={(role) => change(m, role)}
                      testId={`member-role-${m.email}`}
                    />
                  </td>
                  <td title={formatDateTime(m.createdAt)}>{relativeTime(m.createdAt)}</td>
                  <td>
                    <Button small variant="danger" onClick={() => setRemoving(m)} data-testid={`member-remove-${m.email}`}>
                      Remove
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <ConfirmDialog
        open={removing !== undefined}
        title={`Remove ${removing?.email ?? ''} from ${project.key}?`}
        confirmLabel="Remove"
        danger
        busy={remove.busy}
        error={remove.error}
        onConfirm={() => removing && void remove.run(removing)}
        onCancel={() => {
          setRemoving(undefined);
          remove.clear();
        }}
      >
        <p>
          They lose their role in this project at once
          {project.key === defaultProject ? ' (here, they keep their account role)' : ''}; their account and their roles elsewhere stay.
        </p>
        {removing && selfChangeWarning(removing, me, 'removed') ? (
          <p className="alert alert-warn">{selfChangeWarning(removing, me, 'removed')}</p>
        ) : null}
      </ConfirmDialog>
      <ConfirmDialog
        open={lowering !== undefined}
        title={`Make yourself ${lowering?.role ?? ''} in ${project.key}?`}
        confirmLabel="Change my role"
        danger
        busy={setRole.busy}
        error={setRole.error}
        onConfirm={() => lowering && void setRole.run(lowering.member, lowering.role)}
        onCancel={() => {
          setLowering(undefined);
          setRole.clear();
        }}
      >
        <p>{lowering ? selfChangeWarning(lowering.member, me, lowering.role) : null}</p>
      </ConfirmDialog>
    </section>
  );
}

/**
 * Adding a person: an organisation admin picks an account; a project's admin (who cannot list accounts) types the
 * person's user id, which an organisation admin can tell them — or asks that admin to add the person.
 */
function AddMember({
  project,
  users,
  usersError,
  busy,
  onAdd,
}: {
  project: Project;
  /** The accounts not yet members (organisation admins); undefined: add by user id. */
  users: User[] | undefined;
  usersError: unknown;
  busy: boolean;
  onAdd: (member: { userId: string; email: string }, role: Role) => void;
}) {
  const [userId, setUserId] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [touched, setTouched] = useState(false);
  const chosen = users ? (users.find((u) => u.id === userId) ?? users[0]) : undefined;
  const id = users ? (chosen?.id ?? '') : userId.trim();
  const idValid = isUserId(id);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTouched(true);
    if (idValid) onAdd({ userId: id, email: chosen?.email ?? '' }, role);
    if (idValid && !users) setUserId('');
  };
  return (
    <form
      className="card form inline-form"
      onSubmit={submit}
      noValidate
      data-testid="member-add-form"
      aria-label={`Add a member to ${project.key}`}
    >
      {users ? (
        <Field label="Person">
          {users.length === 0 ? (
            <span className="muted">Every account already holds a role here.</span>
          ) : (
            <select value={chosen?.id ?? ''} onChange={(e) => setUserId(e.target.value)} data-testid="member-add-user">
              {users.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name ? `${u.name} <${u.email}>` : u.email}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : (
        <Field
          label="User id"
          hint="Only organisation admins see the accounts: ask one for the person’s user id, or to add them."
          error={touched && !idValid ? 'A user id looks like 0b7c…-…: 36 characters' : undefined}
        >
          <input
            type="text"
            className="code"
            value={userId}
            onChange={(e) => setUserId(e.target.value)}
            placeholder="user id"
            spellCheck={false}
            data-testid="member-add-user-id"
          />
        </Field>
      )}
      <Field label="Role">
        <RoleSelect value={role} onChange={setRole} testId="member-add-role" />
      </Field>
      <Button
        type="submit"
        variant="primary"
        busy={busy}
        busyLabel="Adding…"
        disabled={users !== undefined && !chosen}
        data-testid="member-add-submit"
      >
        Add member
      </Button>
      <ErrorBox error={usersError} title="The accounts could not be listed." />
    </form>
  );
}
