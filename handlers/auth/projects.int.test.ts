import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { createTestDatabase, type TestDatabase } from '../../shared/testing/postgres.ts';
import { createMemoryCache } from '../../shared/cache/memory-cache.ts';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import { migrateToLatest } from '../../shared/db/database.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { until } from '../../shared/testing/until.ts';
import { buildAuthApp, createAuthStore, migrateAuth } from './auth-app.ts';
import { startAccessPublisher } from './access-publisher.ts';
import type { AuthDatabase } from './auth-store.postgres.ts';
import { authMigrations, authSchema } from './migrations/index.ts';

const password = 'a long enough password';
type Caller = { headers: Record<string, string> };

describe('projects on PostgreSQL', () => {
  let test: TestDatabase<AuthDatabase>;
  let built: Awaited<ReturnType<typeof buildAuthApp>>;
  let migrated: string[];
  let keyBeforeProjects: string;
  let filenodeBefore: number;
  let filenodeAfter: number;
  let admin: Caller;

  beforeAll(async () => {
    test = await createTestDatabase<AuthDatabase>('auth');
    // A deployment from before projects, with a key: the migration gives it the default project.
    const before = Object.fromEntries(Object.entries(authMigrations).filter(([name]) => name < '0004'));
    await migrateToLatest(test.db as Kysely<unknown>, authSchema, before);
    keyBeforeProjects = randomUUID();
    await sql`insert into auth.api_keys (id, name, environment, prefix, key_hash, created_by, created_at)
      values (${keyBeforeProjects}, 'old', 'production', 'tm_old', 'hash-of-old', ${randomUUID()}, now())`.execute(test.db);
    const filenode = () => sql<{ node: number }>`select pg_relation_filenode('auth.api_keys') as node`.execute(test.db);
    filenodeBefore = (await filenode()).rows[0]!.node;
    migrated = await migrateAuth(test.db);
    filenodeAfter = (await filenode()).rows[0]!.node;
    built = await buildAuthApp({
      config: testConfig({ SELF_REGISTRATION: 'on', LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '1000' }),
      logger: createLogger('silent', 'auth'),
      store: createAuthStore(test.db),
      cache: createMemoryCache(),
      environments: async () => ['development', 'production'],
      findProject: async (key) => (['payments', 'web'].includes(key) ? { key } : undefined),
    });
    await built.service.bootstrapAdmin('root@example.com', password);
    admin = await signIn('root@example.com');
  });
  afterAll(async () => {
    await built?.app.close();
    await test?.drop();
  });

  async function signIn(email: string): Promise<Caller> {
    const login = await built.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } });
    return { headers: { authorization: `Bearer ${login.json<{ accessToken: string }>().accessToken}` } };
  }
  async function account(email: string): Promise<Caller & { id: string }> {
    await built.app.inject({ method: 'POST', url: '/auth/register', payload: { email, password } });
    const { id } = await test.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow();
    return { id, ...(await signIn(email)) };
  }
  const put = (as: Caller, project: string, userId: string, role: string) =>
    built.app.inject({ method: 'PUT', url: `/auth/projects/${project}/members/${userId}`, headers: as.headers, payload: { role } });
  const remove = (as: Caller, project: string, userId: string) =>
    built.app.inject({ method: 'DELETE', url: `/auth/projects/${project}/members/${userId}`, headers: as.headers });
  const userChanges = async (id: string) =>
    (await test.db.selectFrom('outbox').select('id').where('aggregate_key', '=', `user:${id}`).execute()).length;

  it('applies the projects migration online: keys that existed belong to default, a role is one of three', async () => {
    expect(migrated).toEqual(['0004-projects']);
    // The same file on disk: the column was added without rewriting the table.
    expect(filenodeAfter).toBe(filenodeBefore);
    const old = await test.db.selectFrom('api_keys').select('project').where('id', '=', keyBeforeProjects).executeTakeFirstOrThrow();
    expect(old.project).toBe('default');
    const listed = await built.app.inject({ method: 'GET', url: '/auth/api-keys?project=default', headers: admin.headers });
    expect(listed.json<{ items: { id: string; project: string }[] }>().items).toContainEqual(
      expect.objectContaining({ id: keyBeforeProjects, project: 'default' }),
    );
    const someone = await account('constraint@example.com');
    await expect(
      sql`insert into auth.project_members values ('payments', ${someone.id}, 'owner', now(), now())`.execute(test.db),
    ).rejects.toThrow(/check/);
    await expect(
      sql`insert into auth.project_members values ('payments', ${randomUUID()}, 'viewer', now(), now())`.execute(test.db),
    ).rejects.toThrow(/foreign key/);
  });

  it('keeps memberships, and writes the user to the outbox with each membership change, never for a refused one', async () => {
    const ana = await account('ana@example.com');
    const before = await userChanges(ana.id);
    const granted = await put(admin, 'payments', ana.id, 'admin');
    expect(granted.statusCode, granted.body).toBe(200);
    expect(await userChanges(ana.id)).toBe(before + 1);

    // Ana (a viewer of the organisation) now manages payments: auth's verifier reads her membership from the database.
    const ben = await account('ben@example.com');
    expect((await put(ana, 'payments', ben.id, 'viewer')).statusCode).toBe(200);
    const raised = await put(ana, 'payments', ben.id, 'editor');
    expect(raised.json()).toMatchObject({ role: 'editor', email: 'ben@example.com' });
    expect(raised.json<{ createdAt: string; updatedAt: string }>().updatedAt >= raised.json<{ createdAt: string }>().createdAt).toBe(true);
    const rows = await test.db.selectFrom('project_members').selectAll().where('user_id', '=', ben.id).execute();
    expect(rows.map((r) => [r.project, r.role])).toEqual([['payments', 'editor']]);
    const benBefore = await userChanges(ben.id);

    // Refused: a project editor, another project, an unknown project, no such member.
    expect((await put(ben, 'payments', ben.id, 'admin')).statusCode).toBe(403);
    expect((await put(ana, 'web', ben.id, 'viewer')).statusCode).toBe(403);
    expect((await put(admin, 'nowhere', ben.id, 'viewer')).statusCode).toBe(404);
    expect((await remove(ana, 'payments', randomUUID())).statusCode).toBe(404);
    expect(await userChanges(ben.id)).toBe(benBefore);

    const members = await built.app.inject({ method: 'GET', url: '/auth/projects/payments/members', headers: ana.headers });
    expect(members.json<{ items: { email: string; role: string }[] }>().items.map((m) => [m.email, m.role])).toEqual([
      ['ana@example.com', 'admin'],
      ['ben@example.com', 'editor'],
    ]);

    expect((await remove(ana, 'payments', ben.id)).statusCode).toBe(204);
    expect(await userChanges(ben.id)).toBe(benBefore + 1);
    expect(await test.db.selectFrom('project_members').selectAll().where('user_id', '=', ben.id).execute()).toEqual([]);
    // Deactivating an account keeps its memberships (enabling it again brings them back).
    await built.service.updateUser(ana.id, { disabled: true });
    expect(await test.db.selectFrom('project_members').select('project').where('user_id', '=', ana.id).execute()).toEqual([
      { project: 'payments' },
    ]);
    await built.service.updateUser(ana.id, { disabled: false });
  });

  it("lists a project's SDK keys under it and not under default", async () => {
    const cleo = await account('cleo@example.com');
    expect((await put(admin, 'web', cleo.id, 'editor')).statusCode).toBe(200);
    const created = await built.app.inject({
      method: 'POST',
      url: '/auth/api-keys?project=web',
      headers: cleo.headers,
      payload: { environment: 'development', name: 'web-backend' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<{ id: string }>();
    expect((await test.db.selectFrom('api_keys').select('project').where('id', '=', id).executeTakeFirstOrThrow()).project).toBe('web');
    const ids = async (query: string) =>
      (await built.app.inject({ method: 'GET', url: `/auth/api-keys${query}`, headers: admin.headers }))
        .json<{ items: { id: string }[] }>()
        .items.map((k) => k.id);
    expect(await ids('?project=web')).toEqual([id]);
    expect(await ids('?project=default')).not.toContain(id);
    expect(await ids('')).toEqual(expect.arrayContaining([id, keyBeforeProjects]));
    const missing = await built.app.inject({
      method: 'POST',
      url: '/auth/api-keys?project=nowhere',
      headers: admin.headers,
      payload: { environment: 'development', name: 'x' },
    });
    expect(missing.statusCode).toBe(404);
    expect(await test.db.selectFrom('api_keys').select('id').where('project', '=', 'nowhere').execute()).toEqual([]);
  });

  it("publishes each user's memberships and each key's project to the access replica, within a second of the change", async () => {
    const cache = createMemoryConfigCache();
    const publisher = startAccessPublisher({
      pool: test.pool,
      schema: authSchema,
      store: createAuthStore(test.db),
      cache,
      logger: createLogger('silent', 'auth'),
      metrics: new Registry(),
    });
    try {
      const dora = await account('dora@example.com');
      expect((await put(admin, 'payments', dora.id, 'viewer')).statusCode).toBe(200);
      const access = async () => (await cache.getUsersAccess([dora.id]))[0];
      // The first pass reseeds the empty cache: every user, with the memberships they have.
      await until(async () => (await access())?.projects?.payments === 'viewer');
      const root = (await test.db.selectFrom('users').select('id').where('email', '=', 'root@example.com').executeTakeFirstOrThrow()).id;
      expect((await cache.getUsersAccess([root]))[0]).toMatchObject({ role: 'admin', projects: {} });

      expect((await put(admin, 'web', dora.id, 'admin')).statusCode).toBe(200);
      expect(await until(async () => (await access())?.projects?.web === 'admin')).toBeLessThan(1_000);
      expect(await access()).toEqual({ id: dora.id, role: 'viewer', disabled: false, projects: { payments: 'viewer', web: 'admin' } });
      expect((await remove(admin, 'payments', dora.id)).statusCode).toBe(204);
      expect(await until(async () => (await access())?.projects?.payments === undefined)).toBeLessThan(1_000);
      expect((await access())?.projects).toEqual({ web: 'admin' });

      const key = await built.app.inject({
        method: 'POST',
        url: '/auth/api-keys?project=payments',
        headers: admin.headers,
        payload: { environment: 'production', name: 'checkout' },
      });
      const { id } = key.json<{ id: string }>();
      await until(async () => (await cache.getSdkKeys([id])).length === 1);
      expect((await cache.getSdkKeys([id]))[0]).toMatchObject({ project: 'payments', environment: 'production', revoked: false });
      expect((await cache.getSdkKeys([keyBeforeProjects]))[0]).toMatchObject({ project: 'default' });
    } finally {
      await publisher.stop();
    }
  });
});
