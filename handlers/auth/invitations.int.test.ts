import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../shared/testing/postgres.ts';
import { freePort } from '../../shared/testing/free-port.ts';
import { createMemoryCache } from '../../shared/cache/memory-cache.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { buildAuthApp, createAuthStore, migrateAuth } from './auth-app.ts';
import { hashInvitationToken } from './auth-service.ts';
import type { AuthDatabase } from './auth-store.postgres.ts';

const password = 'a long enough password';
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

describe('invitations on PostgreSQL', () => {
  let test: TestDatabase<AuthDatabase>;
  let built: Awaited<ReturnType<typeof buildAuthApp>>;
  let migrations: string[];
  let admin: { authorization: string };

  beforeAll(async () => {
    test = await createTestDatabase<AuthDatabase>('auth');
    migrations = await migrateAuth(test.db);
    // Self-registration stays off (the default): invitations are the way in.
    built = await buildAuthApp({
      config: testConfig({ LOGIN_MAX_ATTEMPTS_PER_ADDRESS: '1000' }),
      logger: createLogger('silent', 'auth'),
      store: createAuthStore(test.db),
      cache: createMemoryCache(),
    });
    await built.service.bootstrapAdmin('root@example.com', password);
    const login = await built.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'root@example.com', password } });
    admin = { authorization: `Bearer ${login.json<{ accessToken: string }>().accessToken}` };
  });
  afterAll(async () => {
    await built?.app.close();
    await test?.drop();
  });

  async function invite(email: string, role = 'editor'): Promise<{ id: string; token: string }> {
    const res = await built.app.inject({ method: 'POST', url: '/auth/invitations', headers: admin, payload: { email, role } });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }
  const accept = (token: string, pw = password) =>
    built.app.inject({ method: 'POST', url: '/auth/invitations/accept', payload: { token, password: pw } });
  const row = (id: string) => test.db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('applies the invitations migration: a table that keeps only the token hash and ties acceptance to an account', async () => {
    expect(migrations).toContain('0003-invitations');
    const created = await invite('hashed@example.com');
    const stored = await row(created.id);
    expect(stored.token_hash).toBe(hashInvitationToken(created.token));
    expect(JSON.stringify(stored)).not.toContain(created.token);
    // accepted_at and accepted_user_id go together.
    await expect(sql`update auth.invitations set accepted_at = now() where id = ${created.id}`.execute(test.db)).rejects.toThrow(
      /invitations_accepted_has_user/,
    );
  });

  it('creates the invited account once and publishes it, however many acceptances race for the link', async () => {
    const created = await invite('racer@example.com', 'editor');
    const outboxBefore = await test.db.selectFrom('outbox').select('id').where('topic', '=', 'user').execute();
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => accept(created.token, `${password} ${i}`)));
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
    for (const refused of answers.filter((a) => a.statusCode === 409))
      expect(refused.json()).toMatchObject({ code: 'CONFLICT', detail: expect.stringMatching(/already used/) as unknown });
    const users = await test.db.selectFrom('users').selectAll().where('email', '=', 'racer@example.com').execute();
    expect(users).toHaveLength(1);
    expect(users[0]!.role).toBe('editor');
    const stored = await row(created.id);
    expect(stored.accepted_user_id).toBe(users[0]!.id);
    expect(stored.accepted_at).not.toBeNull();
    const outboxAfter = await test.db.selectFrom('outbox').select(['id', 'aggregate_key']).where('topic', '=', 'user').execute();
    expect(outboxAfter.length - outboxBefore.length).toBe(1);
    // The winner's password is the one that works.
    const winner = answers.findIndex((a) => a.statusCode === 201);
    const signIn = (pw: string) =>
      built.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'racer@example.com', password: pw } });
    expect((await signIn(`${password} ${winner}`)).statusCode).toBe(200);
  });

  it('consumes the invitation atomically in the store, also when the acceptances skip the service’s early check', async () => {
    const created = await invite('store-racer@example.com', 'viewer');
    const store = createAuthStore(test.db);
    const tokenHash = hashInvitationToken(created.token);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.acceptInvitation(tokenHash, { id: crypto.randomUUID(), name: `racer ${i}`, passwordHash: 'x' }, new Date()),
      ),
    );
    expect(outcomes.filter((o) => typeof o === 'object')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(9);
    expect(await test.db.selectFrom('users').select('id').where('email', '=', 'store-racer@example.com').execute()).toHaveLength(1);
  });

  it('refuses an expired or revoked invitation, and one whose e-mail got an account meanwhile, leaving that one open', async () => {
    const expired = await invite('expired@example.com');
    await test.db
      .updateTable('invitations')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', expired.id)
      .execute();
    expect((await accept(expired.token)).json()).toMatchObject({ status: 403, detail: expect.stringMatching(/expired/) as unknown });

    const revoked = await invite('revoked@example.com');
    expect((await built.app.inject({ method: 'DELETE', url: `/auth/invitations/${revoked.id}`, headers: admin })).statusCode).toBe(204);
    expect((await accept(revoked.token)).json()).toMatchObject({ status: 403, detail: expect.stringMatching(/withdrawn/) as unknown });

    const overtaken = await invite('overtaken@example.com');
    await built.service.bootstrapAdmin('overtaken@example.com', 'some other password');
    expect((await accept(overtaken.token)).json()).toMatchObject({
      status: 409,
      detail: expect.stringMatching(/already exists/) as unknown,
    });
    expect((await row(overtaken.id)).accepted_at).toBeNull();
    expect(
      await test.db.selectFrom('users').select('id').where('email', 'in', ['expired@example.com', 'revoked@example.com']).execute(),
    ).toEqual([]);
    const listed = await built.app.inject({ method: 'GET', url: '/auth/invitations', headers: admin });
    const emails = listed.json<{ items: { email: string }[] }>().items.map((i) => i.email);
    expect(emails).not.toContain('expired@example.com');
    expect(emails).not.toContain('revoked@example.com');
  });
});

describe('an auth process started with the production configuration', () => {
  let test: TestDatabase<AuthDatabase>;
  let url: string;
  let child: ReturnType<typeof spawn>;
  let output = '';

  beforeAll(async () => {
    test = await createTestDatabase<AuthDatabase>('auth');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: test.url,
      MIGRATE_ON_START: 'true',
      REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: `tm-test-${randomBytes(3).toString('hex')}:`,
      AUTH_JWT_PRIVATE_KEY: signingKey,
    };
    child = spawn(process.execPath, ['handlers/main.ts', 'auth'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ready = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`auth did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await test?.drop();
  }, 30_000);

  it('refuses self-registration, and tells the sign-in page so', async () => {
    const res = await fetch(`${url}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'stranger@example.com', password }),
    });
    expect(res.status, output).toBe(403);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ code: 'FORBIDDEN', detail: expect.stringMatching(/turned off/) as unknown });
    expect(await (await fetch(`${url}/auth/settings`)).json()).toEqual({ selfRegistration: false, selfRegistrationDomains: [] });
    expect(await test.db.selectFrom('users').select('id').execute()).toEqual([]);
  });
});
