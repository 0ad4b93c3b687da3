import { describe, expect, it } from 'vitest';
import type { User } from '../api/types.ts';
import {
  addableUsers,
  atLeast,
  checkNewProject,
  chooseProject,
  isProjectKey,
  isProjectPage,
  isUserId,
  permissionsIn,
  projectLabel,
  projectOf,
  projectPatch,
  roleInProject,
  selfChangeWarning,
  switchTarget,
  withProject,
} from './projects.ts';

const projects = [
  { key: 'default', role: 'viewer' as const },
  { key: 'payments', role: 'editor' as const },
  { key: 'search', role: null },
];

describe('a project’s key and a document’s project', () => {
  it('takes a document’s project, the default one when it names none (written before projects, or a service not there yet)', () => {
    expect(projectOf({ project: 'payments' })).toBe('payments');
    expect(projectOf({ key: 'beta' })).toBe('default');
    expect(projectOf({ project: undefined })).toBe('default');
  });

  it('knows a project key as the services check it', () => {
    for (const key of ['default', 'payments', 'team-web', 'a_b', 'x1']) expect(isProjectKey(key), key).toBe(true);
    for (const key of ['', 'Payments', '-x', 'x-', 'a--b', 'a b', 'a'.repeat(65)]) expect(isProjectKey(key), key).toBe(false);
  });
});

describe('the role in a project', () => {
  it('makes an organisation admin admin of every project, listed or not', () => {
    expect(roleInProject('admin', 'anything', undefined)).toBe('admin');
    expect(roleInProject('admin', 'payments', projects)).toBe('admin');
  });

  it('takes the role the projects list says, and none where the person holds none', () => {
    expect(roleInProject('viewer', 'payments', projects)).toBe('editor');
    expect(roleInProject('editor', 'default', projects)).toBe('viewer');
    expect(roleInProject('viewer', 'search', projects)).toBeUndefined();
    expect(roleInProject('viewer', 'unlisted', projects)).toBeUndefined();
  });

  it('before the list arrived, counts the account role in the default project and nothing elsewhere', () => {
    expect(roleInProject('editor', 'default', undefined)).toBe('editor');
    expect(roleInProject('editor', 'payments', undefined)).toBeUndefined();
  });

  it('orders roles viewer < editor < admin, no role below them all', () => {
    expect(atLeast('admin', 'editor')).toBe(true);
    expect(atLeast('editor', 'editor')).toBe(true);
    expect(atLeast('viewer', 'editor')).toBe(false);
    expect(atLeast(undefined, 'viewer')).toBe(false);
  });

  it('offers edits to editors and admins, managing to admins, and says why not in words', () => {
    const viewer = permissionsIn('payments', 'viewer');
    expect(viewer).toMatchObject({ canEdit: false, canAdmin: false });
    expect(viewer.editReason).toBe('Your role in project payments is viewer: changes need the editor or admin role.');
    expect(permissionsIn('payments', 'editor')).toMatchObject({ canEdit: true, canAdmin: false });
    expect(permissionsIn('payments', 'editor').adminReason).toBe('Your role in project payments is editor: this needs the admin role.');
    expect(permissionsIn('payments', 'admin')).toMatchObject({ canEdit: true, canAdmin: true });
    // The default project speaks as the console did before projects.
    expect(permissionsIn('default', 'viewer').editReason).toBe('Your role is viewer: changes need the editor or admin role.');
    const none = permissionsIn('search', undefined);
    expect(none).toMatchObject({ canEdit: false, canAdmin: false, role: undefined });
    expect(none.rolePhrase).toBe('You have no role in project search');
  });
});

describe('the current project', () => {
  it('is the URL’s when it names one, whatever was remembered', () => {
    expect(chooseProject('payments', 'search', projects)).toBe('payments');
    // Even one the person is not listed in: the page then shows what the services answer.
    expect(chooseProject('elsewhere', 'payments', projects)).toBe('elsewhere');
  });

  it('is the remembered one otherwise, while the person still holds a role there', () => {
    expect(chooseProject(null, 'payments', projects)).toBe('payments');
    expect(chooseProject(null, 'payments', undefined)).toBe('payments');
    expect(chooseProject(null, 'gone', projects)).toBe('default');
  });

  it('is the default project when nothing (valid) names one', () => {
    expect(chooseProject(null, undefined, projects)).toBe('default');
    expect(chooseProject('Not A Key', 'also bad!', undefined)).toBe('default');
    expect(chooseProject('', null, undefined)).toBe('default');
  });
});

describe('links in a project', () => {
  it('sets ?project= on a path, keeping its other parameters and fragment, replacing an earlier project', () => {
    expect(withProject('/flags', 'payments')).toBe('/flags?project=payments');
    expect(withProject('/flags?archived=1', 'payments')).toBe('/flags?archived=1&project=payments');
    expect(withProject('/flags?project=default&q=x', 'payments')).toBe('/flags?project=payments&q=x');
    expect(withProject('/change-requests#top', 'search')).toBe('/change-requests?project=search#top');
    expect(withProject('?webhook=w-1', 'payments')).toBe('?webhook=w-1&project=payments');
  });

  it('tells the pages of a project from the organisation’s', () => {
    for (const path of [
      '/flags',
      '/flags/new',
      '/flags/checkout/targeting',
      '/segments/beta',
      '/playground',
      '/change-requests/1',
      '/api-keys',
      '/webhooks',
    ])
      expect(isProjectPage(path), path).toBe(true);
    for (const path of ['/projects', '/projects/payments', '/users', '/environments', '/flagship'])
      expect(isProjectPage(path), path).toBe(false);
  });

  it('after a switch, keeps a list (and its filters) in the new project', () => {
    expect(switchTarget('/flags', '?q=check&project=default', 'payments')).toBe('/flags?q=check&project=payments');
    expect(switchTarget('/flags', '', 'payments')).toBe('/flags?project=payments');
    expect(switchTarget('/flags/new', '', 'payments')).toBe('/flags/new?project=payments');
    expect(switchTarget('/segments/new', '', 'payments')).toBe('/segments/new?project=payments');
  });

  it('after a switch, leaves a resource of the old project for its list in the new one', () => {
    expect(switchTarget('/flags/checkout', '', 'payments')).toBe('/flags?project=payments');
    expect(switchTarget('/flags/checkout/targeting', '?environment=production', 'payments')).toBe('/flags?project=payments');
    expect(switchTarget('/segments/beta', '', 'payments')).toBe('/segments?project=payments');
    expect(switchTarget('/change-requests/5e0c', '', 'payments')).toBe('/change-requests?project=payments');
    // A webhook, or one flag's requests, named in the query.
    expect(switchTarget('/webhooks', '?project=default&webhook=w-1', 'payments')).toBe('/webhooks?project=payments');
    expect(switchTarget('/change-requests', '?flag=checkout&view=all', 'payments')).toBe('/change-requests?view=all&project=payments');
  });

  it('after a switch, leaves an organisation page as it is', () => {
    expect(switchTarget('/users', '', 'payments')).toBe('/users');
    expect(switchTarget('/projects/search', '', 'payments')).toBe('/projects/search');
  });

  it('names a project by its name and key, or its key alone when that is its name', () => {
    expect(projectLabel({ key: 'payments', name: 'Payments' })).toBe('Payments (payments)');
    expect(projectLabel({ key: 'default', name: 'default' })).toBe('default');
    expect(projectLabel({ key: 'x', name: '' })).toBe('x');
  });
});

describe('creating and renaming a project', () => {
  it('sends the key, the name and a description only when there is one, trimmed', () => {
    expect(checkNewProject({ key: ' payments ', name: ' Payments ', description: '  ' })).toEqual({
      ok: true,
      project: { key: 'payments', name: 'Payments' },
    });
    expect(checkNewProject({ key: 'payments', name: 'Payments', description: 'Checkout and refunds' })).toEqual({
      ok: true,
      project: { key: 'payments', name: 'Payments', description: 'Checkout and refunds' },
    });
  });

  it('says what is wrong, field by field', () => {
    const checked = checkNewProject({ key: 'Pay Ments', name: ' ', description: 'x'.repeat(1001) });
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(Object.keys(checked.errors).sort()).toEqual(['description', 'key', 'name']);
    expect(checkNewProject({ key: 'p', name: 'n'.repeat(101), description: '' })).toMatchObject({
      ok: false,
      errors: { name: 'At most 100 characters' },
    });
  });

  it('renames with the fields that changed only (an emptied name is not sent)', () => {
    const project = { name: 'Payments', description: 'Old' };
    expect(projectPatch(project, { name: 'Payments', description: 'Old' })).toEqual({});
    expect(projectPatch(project, { name: ' Payments team ', description: 'Old' })).toEqual({ name: 'Payments team' });
    expect(projectPatch(project, { name: '', description: '' })).toEqual({ description: '' });
  });
});

describe('members', () => {
  const user = (id: string, email: string, disabled = false): User => ({
    id,
    email,
    name: null,
    role: 'viewer',
    disabled,
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
  });

  it('offers the enabled accounts that hold no role yet, by e-mail', () => {
    const users = [user('u3', 'zed@x.io'), user('u1', 'ann@x.io'), user('u2', 'bob@x.io'), user('u4', 'off@x.io', true)];
    expect(addableUsers(users, [{ userId: 'u2' }]).map((u) => u.email)).toEqual(['ann@x.io', 'zed@x.io']);
  });

  it('takes a user id as a UUID', () => {
    expect(isUserId(' 0b7c6b8e-3f0a-4c4e-9a53-2f4f9b1f0c11 ')).toBe(true);
    expect(isUserId('bob@x.io')).toBe(false);
    expect(isUserId('')).toBe(false);
  });

  it('warns a project admin who lowers or removes their own role, not an organisation admin nor a change of someone else', () => {
    const me = { sub: 'u1', role: 'editor' as const };
    expect(selfChangeWarning({ userId: 'u1' }, me, 'viewer')).toContain('no longer manage');
    expect(selfChangeWarning({ userId: 'u1' }, me, 'removed')).toContain('no longer see this project');
    expect(selfChangeWarning({ userId: 'u1' }, me, 'admin')).toBeUndefined();
    expect(selfChangeWarning({ userId: 'u2' }, me, 'viewer')).toBeUndefined();
    expect(selfChangeWarning({ userId: 'u1' }, { sub: 'u1', role: 'admin' }, 'viewer')).toBeUndefined();
  });
});
