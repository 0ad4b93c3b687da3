import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../../shared/testing/postgres.ts';
import { startRedisServer } from '../../shared/testing/redis-server.ts';
import { createMemoryCache } from '../../shared/cache/memory-cache.ts';
import { createRedisCache, createRedisClient, whenReady } from '../../shared/cache/redis-cache.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { buildAuthApp, createAuthStore, migrateAuth } from './auth-app.ts';
import type { AuthDatabase } from './auth-store.postgres.ts';
import { hashSdkKey } from '../../shared/http/sdk-keys.ts';

describe('auth on PostgreSQL', () => {
  let test: TestDatabase<AuthDatabase>;
  let built: Awaited<ReturnType<typeof buildAuthApp>>;
  const password = 'a long enough password';

  beforeAll(async () => {
    test = await createTestDatabase<AuthDatabase>('auth');
    await migrateAuth(test.db);
    built = await buildAuthApp({
      config: testConfig({ SELF_REGISTRATION: 'on' }),
      logger: createLogger('silent', 'auth'),
      store: createAuthStore(test.db),
      cache: createMemoryCache(),
      environments: async () => ['development', 'production'],
    });
  });
  afterAll(async () => {
    await built.app.close();
    await test.drop();
  });

  const login = async (email: string) =>
    (await built.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } })).json<{ accessToken: string }>()
      .accessToken;

  it('creates the first admin once and never overwrites it', async () => {
    expect(await built.service.bootstrapAdmin('root@example.com', password)).toBe('created');
    expect(await built.service.bootstrapAdmin('root@example.com', 'a different password!')).toBe('exists');
    const row = await test.db
      .selectFrom('users')
      .select(['role', 'password_hash'])
      .where('email', '=', 'root@example.com')
      .executeTakeFirstOrThrow();
    expect(row.role).toBe('admin');
    expect(row.password_hash).toMatch(/^\$argon2id\$/);
    expect(await login('root@example.com')).toBeTruthy();
  });

  it('registers, logs in and validates against the database; a duplicate email changes nothing and reads the same', async () => {
    const reg = await built.app.inject({ method: 'POST', url: '/auth/register', payload: { email: 'dev@example.com', password } });
    expect(reg.statusCode).toBe(202);
    const before = await test.db.selectFrom('users').selectAll().where('email', '=', 'dev@example.com').executeTakeFirstOrThrow();
    const dup = await built.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email: 'DEV@example.com', password: 'someone else entirely' },
    });
    expect(dup.statusCode).toBe(reg.statusCode);
    expect(dup.body).toBe(reg.body);
    expect(await test.db.selectFrom('users').selectAll().where('email', '=', 'dev@example.com').execute()).toEqual([before]);
    const token = await login('dev@example.com');
    const me = await built.app.inject({ method: 'GET', url: '/auth/validate', headers: { authorization: `Bearer ${token}` } });
    expect(me.json()).toMatchObject({ email: 'dev@example.com', role: 'viewer' });
  });

  it('stops accepting a token of a disabled account at /auth/validate', async () => {
    const admin = await login('root@example.com');
    const token = await login('dev@example.com');
    const sub = (await built.app.inject({ method: 'GET', url: '/auth/validate', headers: { authorization: `Bearer ${token}` } })).json<{
      sub: string;
    }>().sub;
    const disabled = await built.app.inject({
      method: 'PATCH',
      url: `/auth/users/${sub}`,
      headers: { authorization: `Bearer ${admin}` },
      payload: { disabled: true },
    });
    expect(disabled.json()).toMatchObject({ disabled: true });
    const after = await built.app.inject({ method: 'GET', url: '/auth/validate', headers: { authorization: `Bearer ${token}` } });
    expect(after.statusCode).toBe(401);
  });

  it('stores API keys only as hashes, and publishes their creation and revocation through the outbox', async () => {
    const admin = await login('root@example.com');
    const created = await built.app.inject({
      method: 'POST',
      url: '/auth/api-keys',
      headers: { authorization: `Bearer ${admin}` },
      payload: { environment: 'development', name: 'backend' },
    });
    const { id, key } = created.json<{ id: string; key: string }>();
    const stored = await test.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(key);
    expect(stored).toMatchObject({ key_hash: hashSdkKey(key), kind: 'server', revoked_at: null });
    await built.app.inject({ method: 'DELETE', url: `/auth/api-keys/${id}`, headers: { authorization: `Bearer ${admin}` } });
    // Both changes are in the outbox, written by the same transactions, for every service's access replica.
    const outbox = await test.db
      .selectFrom('outbox')
      .select('payload')
      .where('aggregate_key', '=', `sdk-key:${id}`)
      .orderBy('id')
      .execute();
    expect(outbox.map((row) => row.payload)).toEqual([
      { kind: 'sdk-key', id },
      { kind: 'sdk-key', id },
    ]);
    const listed = await built.app.inject({
      method: 'GET',
      url: '/auth/api-keys?includeRevoked=true',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(listed.json<{ items: { id: string; revokedAt: string | null }[] }>().items.find((k) => k.id === id)?.revokedAt).not.toBeNull();
  });

  it('writes nothing for a rejected request', async () => {
    const admin = await login('root@example.com');
    const dump = async () => ({
      users: await test.db.selectFrom('users').selectAll().orderBy('email').execute(),
      keys: await test.db.selectFrom('api_keys').selectAll().orderBy('id').execute(),
    });
    const before = await dump();
    const rejected = [
      { method: 'POST', url: '/auth/register', payload: { email: 'not-an-email', password } },
      { method: 'POST', url: '/auth/register', payload: { email: 'short@example.com', password: 'short' } },
      { method: 'POST', url: '/auth/register', payload: { email: 'extra@example.com', password, role: 'admin' } },
      {
        method: 'POST',
        url: '/auth/api-keys',
        payload: { environment: 'nowhere', name: 'x' },
        headers: { authorization: `Bearer ${admin}` },
      },
      { method: 'POST', url: '/auth/api-keys', payload: { environment: 'development' }, headers: { authorization: `Bearer ${admin}` } },
      { method: 'PATCH', url: '/auth/users/not-a-uuid', payload: { role: 'admin' }, headers: { authorization: `Bearer ${admin}` } },
      {
        method: 'PATCH',
        url: '/auth/users/00000000-0000-4000-8000-000000000000',
        payload: {},
        headers: { authorization: `Bearer ${admin}` },
      },
    ] as const;
    for (const request of rejected) {
      const res = await built.app.inject(request);
      expect(res.statusCode, `${request.method} ${request.url} ${JSON.stringify(request.payload)}`).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect(await dump()).toEqual(before);
  });
});

describe('sign-in while Redis is away', () => {
  const password = 'a long enough password';
  let redisServer: Awaited<ReturnType<typeof startRedisServer>>;
  let redis: Redis;
  let built: Awaited<ReturnType<typeof buildAuthApp>>;
  let redisRunning = false;
  const logLines: { level: number; msg: string; err?: { message: string } }[] = [];

  beforeAll(async () => {
    redisServer = await startRedisServer();
    redisRunning = true;
    redis = createRedisClient(redisServer.url, { keyPrefix: 'tm:' });
    redis.on('error', () => {});
    if (!(await whenReady(redis, 5000))) throw new Error('the test Redis does not answer');
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as (typeof logLines)[number]) });
    const config = testConfig({ LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS: '3', LOGIN_MAX_FAILURES_PER_ACCOUNT: '100' });
    built = await buildAuthApp({
      config,
      logger,
      store: createAuthStore(),
      cache: createRedisCache(redis),
      environments: async () => config.ENVIRONMENTS,
    });
    await built.service.bootstrapAdmin('ana@example.com', password);
  });
  afterAll(async () => {
    await built?.app.close();
    redis?.disconnect();
    if (redisRunning) await redisServer.stop();
  });

  const signIn = (remoteAddress: string, pw = password) =>
    built.app.inject({ method: 'POST', url: '/auth/login', remoteAddress, payload: { email: 'ana@example.com', password: pw } });
  const cacheWarnings = () => logLines.filter((line) => line.level === 40 && line.msg.includes('shared cache'));

  it('signs people in and still throttles guessing, per process, while Redis is down, then counts in Redis again', async () => {
    expect((await signIn('198.51.100.1')).statusCode).toBe(200);
    expect(await redis.exists('login:address:198.51.100.1')).toBe(1);

    await redisServer.stop();
    redisRunning = false;
    expect((await signIn('198.51.100.1')).statusCode).toBe(200);
    const guesses = [];
    for (let i = 0; i < 4; i++) guesses.push((await signIn('203.0.113.5', 'not the password')).statusCode);
    expect(guesses).toEqual([401, 401, 401, 429]);
    expect((await signIn('198.51.100.1')).statusCode).toBe(200);
    expect(cacheWarnings()).toHaveLength(1);
    expect(cacheWarnings()[0]?.err?.message).toBeTruthy();

    await redisServer.start();
    redisRunning = true;
    expect(await whenReady(redis, 10_000)).toBe(true);
    // The restarted Redis is empty: a counter in it shows sign-in counts there again.
    await expect
      .poll(async () => (await signIn('198.51.100.1')).statusCode === 200 && (await redis.exists('login:address:198.51.100.1')) === 1, {
        timeout: 10_000,
        interval: 300,
      })
      .toBe(true);
    expect(cacheWarnings()).toHaveLength(1);
  });
});
