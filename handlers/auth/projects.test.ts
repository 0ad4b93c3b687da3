import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserRole } from '../../shared/http/authenticate.ts';
import { createMemoryCache } from '../../shared/cache/memory-cache.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import type { Credential } from '../../shared/clients/service-client.ts';
import { buildAuthApp, createAuthStore } from './auth-app.ts';

const config = testConfig({ SELF_REGISTRATION: 'on', LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '1000' });
const password = 'correct horse battery';
/** The projects the (stand-in) flags service has: `default` is never asked for. */
const projects = ['payments', 'web'];

/** Someone signed in: the headers of their requests. */
type Caller = { headers: Record<string, string> };

async function setup() {
  const store = createAuthStore();
  const asked: { key: string; credential: Credential }[] = [];
  const built = await buildAuthApp({
    config,
    logger: createLogger('silent', 'auth'),
    store,
    cache: createMemoryCache(),
    environments: async () => config.ENVIRONMENTS,
    findProject: async (key, credential) => {
      asked.push({ key, credential });
      return projects.includes(key) ? { key } : undefined;
    },
  });
  await built.service.bootstrapAdmin('admin@example.com', password);
  /** A signed-in account with this account role: its id and the headers of its requests. */
  const account = async (email: string, role: UserRole = 'viewer') => {
    await built.app.inject({ method: 'POST', url: '/auth/register', payload: { email, password } });
    const user = (await store.findUserByEmail(email))!;
    if (role !== 'viewer') await store.updateUser(user.id, { role });
    const login = await built.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } });
    const token = login.json<{ accessToken: string }>().accessToken;
    return { id: user.id, headers: { authorization: `Bearer ${token}` } };
  };
  return { ...built, store, asked, account };
}

describe('project members', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  let admin: Awaited<ReturnType<typeof ctx.account>>;
  let alice: typeof admin; // admin of payments
  let bob: typeof admin; // editor in payments
  let carol: typeof admin; // admin of web
  let dave: typeof admin; // an editor of the organisation (default), no membership

  beforeAll(async () => {
    ctx = await setup();
    const login = await ctx.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'admin@example.com', password } });
    const adminId = (await ctx.store.findUserByEmail('admin@example.com'))!.id;
    admin = { id: adminId, headers: { authorization: `Bearer ${login.json<{ accessToken: string }>().accessToken}` } };
    alice = await ctx.account('alice@example.com');
    bob = await ctx.account('bob@example.com');
    carol = await ctx.account('carol@example.com');
    dave = await ctx.account('dave@example.com', 'editor');
  });
  afterAll(async () => {
    await ctx.app.close();
  });

  const put = (as: Caller, project: string, userId: string, role: string) =>
    ctx.app.inject({ method: 'PUT', url: `/auth/projects/${project}/members/${userId}`, headers: as.headers, payload: { role } });
  const members = (as: Caller, project: string) =>
    ctx.app.inject({ method: 'GET', url: `/auth/projects/${project}/members`, headers: as.headers });
  const remove = (as: Caller, project: string, userId: string) =>
    ctx.app.inject({ method: 'DELETE', url: `/auth/projects/${project}/members/${userId}`, headers: as.headers });

  it('lets the organisation admin and then the project admin grant, change and end memberships', async () => {
    const granted = await put(admin, 'payments', alice.id, 'admin');
    expect(granted.statusCode, granted.body).toBe(200);
    expect(granted.json()).toMatchObject({ userId: alice.id, email: 'alice@example.com', name: null, role: 'admin' });
    // The flags service was asked whether payments exists, with the caller's own token.
    expect(ctx.asked.at(-1)).toEqual({ key: 'payments', credential: { bearer: admin.headers.authorization.slice('Bearer '.length) } });
    expect((await put(admin, 'web', carol.id, 'admin')).statusCode).toBe(200);

    // Alice's token says viewer: auth's own verifier knows her membership at once.
    const added = await put(alice, 'payments', bob.id, 'viewer');
    expect(added.statusCode, added.body).toBe(200);
    const raised = await put(alice, 'payments', bob.id, 'editor');
    expect(raised.json()).toMatchObject({ role: 'editor', createdAt: added.json<{ createdAt: string }>().createdAt });

    const listed = await members(alice, 'payments');
    expect(listed.statusCode).toBe(200);
    expect(listed.json<{ items: { email: string; role: string }[] }>().items.map((m) => [m.email, m.role])).toEqual([
      ['alice@example.com', 'admin'],
      ['bob@example.com', 'editor'],
    ]);
    expect(Object.keys(listed.json<{ items: object[] }>().items[0]!).sort()).toEqual(
      ['createdAt', 'email', 'name', 'role', 'updatedAt', 'userId'].sort(),
    );

    expect((await put(alice, 'payments', dave.id, 'viewer')).statusCode).toBe(200);
    expect((await remove(alice, 'payments', dave.id)).statusCode).toBe(204);
    const again = await remove(alice, 'payments', dave.id);
    expect(again.statusCode).toBe(404);
    expect(again.headers['content-type']).toContain('application/problem+json');
    expect((await members(admin, 'payments')).json<{ items: { email: string }[] }>().items.map((m) => m.email)).toEqual([
      'alice@example.com',
      'bob@example.com',
    ]);
  });

  it("refuses a project's editor, another project's admin and an organisation editor", async () => {
    for (const [who, as] of [
      ['payments editor', bob],
      ['web admin', carol],
      ['organisation editor', dave],
    ] as const) {
      const answers = [await members(as, 'payments'), await put(as, 'payments', dave.id, 'admin'), await remove(as, 'payments', alice.id)];
      for (const answer of answers) {
        expect(answer.statusCode, who).toBe(403);
        expect(answer.json()).toMatchObject({ code: 'FORBIDDEN' });
      }
    }
    expect((await members({ headers: {} }, 'payments')).statusCode).toBe(401);
    // Carol manages her own project.
    expect((await members(carol, 'web')).statusCode).toBe(200);
    // Nothing changed.
    expect((await members(admin, 'payments')).json<{ items: { role: string }[] }>().items.map((m) => m.role)).toEqual(['admin', 'editor']);
  });

  it('answers 404 for a project or a user that does not exist, 400 for a malformed one; a disabled user may be a member', async () => {
    const noProject = await put(admin, 'nowhere', bob.id, 'viewer');
    expect(noProject.statusCode).toBe(404);
    expect(noProject.json<{ detail: string }>().detail).toContain('nowhere');
    const noUser = await put(admin, 'payments', '00000000-0000-4000-8000-000000000000', 'viewer');
    expect(noUser.statusCode).toBe(404);
    expect((await put(admin, 'payments', 'not-a-uuid', 'viewer')).statusCode).toBe(400);
    expect((await put(admin, 'Not A Project', bob.id, 'viewer')).statusCode).toBe(400);
    expect((await put(admin, 'payments', bob.id, 'owner')).statusCode).toBe(400);
    expect((await members(admin, 'Not%20A%20Project')).statusCode).toBe(400);
    expect((await remove(admin, 'payments', 'not-a-uuid')).statusCode).toBe(400);

    const erin = await ctx.account('erin@example.com');
    await ctx.store.updateUser(erin.id, { disabled: true });
    expect((await put(admin, 'payments', erin.id, 'viewer')).statusCode).toBe(200);
    expect((await remove(admin, 'payments', erin.id)).statusCode).toBe(204);
  });

  it('takes a membership away at once: the former admin is refused on their next request', async () => {
    const frank = await ctx.account('frank@example.com');
    expect((await put(admin, 'web', frank.id, 'admin')).statusCode).toBe(200);
    expect((await members(frank, 'web')).statusCode).toBe(200);
    expect((await remove(admin, 'web', frank.id)).statusCode).toBe(204);
    const refused = await members(frank, 'web');
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ detail: string }>().detail).toContain('no role in project web');
  });

  it('lets a membership of default raise an account role there, never lower it', async () => {
    const gina = await ctx.account('gina@example.com');
    const key = (as: Caller) =>
      ctx.app.inject({ method: 'POST', url: '/auth/api-keys', headers: as.headers, payload: { environment: 'development', name: 'g' } });
    expect((await key(gina)).statusCode).toBe(403);
    expect((await put(admin, 'default', gina.id, 'editor')).statusCode).toBe(200);
    expect((await key(gina)).statusCode).toBe(201);
    // Dave is an editor of the organisation: a viewer membership of default leaves him an editor there.
    expect((await put(admin, 'default', dave.id, 'viewer')).statusCode).toBe(200);
    expect((await key(dave)).statusCode).toBe(201);
    expect((await remove(admin, 'default', dave.id)).statusCode).toBe(204);
    // `default` always exists: the flags service is not asked about it.
    expect(ctx.asked.some((a) => a.key === 'default')).toBe(false);
  });
});

describe('SDK keys in projects', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  let admin: { headers: { authorization: string } };
  let editor: Awaited<ReturnType<typeof ctx.account>>; // editor in payments, viewer of the organisation
  let reader: typeof editor; // viewer in payments
  let orgEditor: typeof editor; // editor of the organisation (default), no membership

  type Key = { id: string; project: string; name: string };
  const create = (as: Caller, query: string, name: string) =>
    ctx.app.inject({ method: 'POST', url: `/auth/api-keys${query}`, headers: as.headers, payload: { environment: 'production', name } });
  const list = async (as: Caller, query = '') => {
    const answer = await ctx.app.inject({ method: 'GET', url: `/auth/api-keys${query}`, headers: as.headers });
    return { status: answer.statusCode, names: answer.statusCode === 200 ? answer.json<{ items: Key[] }>().items.map((k) => k.name) : [] };
  };

  beforeAll(async () => {
    ctx = await setup();
    const login = await ctx.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'admin@example.com', password } });
    admin = { headers: { authorization: `Bearer ${login.json<{ accessToken: string }>().accessToken}` } };
    editor = await ctx.account('editor@example.com');
    reader = await ctx.account('reader@example.com');
    orgEditor = await ctx.account('org-editor@example.com', 'editor');
    await ctx.service.setProjectMember('payments', editor.id, 'editor', { bearer: '' });
    await ctx.service.setProjectMember('payments', reader.id, 'viewer', { bearer: '' });
  });
  afterAll(async () => {
    await ctx.app.close();
  });

  it("makes a key in the project named, listed under that project and not under default's", async () => {
    const created = await create(editor, '?project=payments', 'checkout');
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ project: 'payments', environment: 'production', name: 'checkout' });
    const inDefault = await create(orgEditor, '', 'site');
    expect(inDefault.json()).toMatchObject({ project: 'default' });

    expect(await list(editor, '?project=payments')).toEqual({ status: 200, names: ['checkout'] });
    expect(await list(orgEditor)).toEqual({ status: 200, names: ['site'] });
    expect(await list(orgEditor, '?project=default')).toEqual({ status: 200, names: ['site'] });
    // The organisation admin: a project's keys when it names one, every project's without.
    expect(await list(admin, '?project=payments')).toEqual({ status: 200, names: ['checkout'] });
    expect((await list(admin)).names.sort()).toEqual(['checkout', 'site']);
    // What the flags service asks before deleting an environment: every project's keys there.
    expect((await list(admin, '?environment=production')).names.sort()).toEqual(['checkout', 'site']);
    expect(await list(admin, '?environment=development')).toEqual({ status: 200, names: [] });
  });

  it("refuses a project's viewer, other projects' editors and the organisation's editor outside default", async () => {
    expect((await create(reader, '?project=payments', 'x')).statusCode).toBe(403);
    expect((await list(reader, '?project=payments')).status).toBe(403);
    // An editor of payments is a viewer of the organisation: nothing of default.
    expect((await create(editor, '', 'x')).statusCode).toBe(403);
    expect((await list(editor)).status).toBe(403);
    const refused = await create(orgEditor, '?project=payments', 'x');
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ detail: string }>().detail).toContain('no role in project payments');
    expect((await list(orgEditor, '?project=payments')).status).toBe(403);
  });

  it('answers 404 for a key in a project that does not exist, 400 for a malformed project', async () => {
    const missing = await create(admin, '?project=nowhere', 'x');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await create(admin, '?project=Bad%20Key', 'x')).statusCode).toBe(400);
    expect((await create(admin, '?project=payments&project=web', 'x')).statusCode).toBe(400);
    expect((await list(admin, '?project=Bad%20Key')).status).toBe(400);
    expect((await list(admin, '?project=nowhere')).names).toEqual([]);
  });

  it("revokes a key only for its project's editors; an unknown key is 404 to them, 403 to a viewer", async () => {
    const key = (await create(admin, '?project=payments', 'to-revoke')).json<Key>();
    const revoke = (as: Caller, id: string) => ctx.app.inject({ method: 'DELETE', url: `/auth/api-keys/${id}`, headers: as.headers });
    expect((await revoke(orgEditor, key.id)).statusCode).toBe(403);
    expect((await revoke(reader, key.id)).statusCode).toBe(403);
    expect((await revoke(editor, key.id)).statusCode).toBe(204);
    expect((await list(editor, '?project=payments&includeRevoked=true')).names).toContain('to-revoke');
    expect((await list(editor, '?project=payments')).names).not.toContain('to-revoke');
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect((await revoke(editor, unknown)).statusCode).toBe(404);
    expect((await revoke(reader, unknown)).statusCode).toBe(403);
    expect((await revoke(editor, 'not-a-uuid')).statusCode).toBe(400);
  });
});
