import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisClient, whenReady } from '../../shared/cache/redis-cache.ts';
import { createDatabase, createPool } from '../../shared/db/database.ts';
import { createHttpServer, type App } from '../../shared/http/server.ts';
import { loggerOptions } from '../../shared/logging/logger.ts';
import { isTransientInfrastructureError } from '../../shared/runtime/transient-errors.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { createTestDatabase, type TestDatabase } from '../../shared/testing/postgres.ts';
import { startTcpProxy, type TcpProxy } from '../../shared/testing/tcp-proxy.ts';
import { testTokens } from '../../shared/testing/tokens.ts';
import { buildFlagsApp, createFlagStore, migrateFlags } from './flags-app.ts';
import type { FlagsDatabase } from './flag-store.postgres.ts';
import { flagsSchema } from './migrations/index.ts';

/** Every wait in these tests is bounded: a request that hangs fails the test instead of the suite's timeout. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A logger whose JSON lines the test can read. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino(loggerOptions('error', 'flags'), sink), lines };
}

describe('flags while its PostgreSQL is unreachable (through a proxy the test cuts)', () => {
  let test: TestDatabase<FlagsDatabase>;
  let proxy: TcpProxy;
  let pool: ReturnType<typeof createPool>;
  let app: App;
  let editor: string;
  const { logger, lines } = capturedLogger();

  beforeAll(async () => {
    test = await createTestDatabase<FlagsDatabase>('flags');
    await migrateFlags(test.db);
    const direct = new URL(test.url);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const viaProxy = new URL(test.url);
    viaProxy.port = String(proxy.port);
    pool = createPool(
      { DATABASE_POOL_MAX: 5, DATABASE_SSL: 'off', DATABASE_URL: undefined },
      { logger, connectionString: viaProxy.toString() },
    );
    const { verifier, tokenFor } = await testTokens();
    editor = await tokenFor('editor');
    const store = createFlagStore(createDatabase<FlagsDatabase>(pool, flagsSchema));
    ({ app } = await buildFlagsApp({ config: testConfig(), logger, store, verifier }));
  });
  afterAll(async () => {
    await app?.close();
    await pool?.end();
    await proxy?.close();
    await test?.drop();
  });
  // A failed test must not leave the next one without its database.
  afterEach(() => proxy.restore());

  const call = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
    within(
      10_000,
      `${method} ${url}`,
      app.inject({ method, url, headers: { authorization: `Bearer ${editor}` }, ...(payload ? { payload } : {}) }),
    );

  it('answers reads and writes 503 with Retry-After while cut, logs the cause with its stack, and serves again once restored', async () => {
    expect((await call('POST', '/flags', { key: 'before', name: 'Before', type: 'boolean' })).statusCode).toBe(201);

    proxy.cut();
    const requests = [
      call('POST', '/flags', { key: 'during', name: 'During', type: 'boolean' }),
      call('PUT', '/flags/before', { name: 'Renamed', type: 'boolean' }),
      call('PATCH', '/flags/before/environments/production', { enabled: true }),
      call('DELETE', '/flags/before'),
      call('GET', '/flags/before'),
      call('GET', '/flags'),
    ];
    for (const res of await Promise.all(requests)) {
      expect(res.statusCode, res.body).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);
      expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect(res.body).not.toMatch(/ECONN|Connection terminated|timeout exceeded/);
    }
    const logged = lines.filter((line) => line.level === 'error' && typeof line.err === 'object');
    expect(logged.length).toBeGreaterThanOrEqual(requests.length);
    expect((logged[0]!.err as { stack?: string }).stack).toMatch(/\n\s+at /);

    proxy.restore();
    const after = await call('POST', '/flags', { key: 'after', name: 'After', type: 'boolean' });
    expect(after.statusCode, after.body).toBe(201);
    expect((await call('GET', '/flags/before')).statusCode).toBe(200);
  });

  it('refuses a NUL character (U+0000) in a stored string or a cursor with 400 naming the field, not a 500 from PostgreSQL', async () => {
    const named = await call('POST', '/flags', { key: 'nul', name: 'a\u0000b', type: 'boolean' });
    expect(named.statusCode, named.body).toBe(400);
    expect(named.json()).toMatchObject({ code: 'VALIDATION_FAILED', errors: [{ path: 'body/name' }] });
    const json = await call('POST', '/flags', {
      key: 'nul-json',
      name: 'x',
      type: 'json',
      variants: [{ key: 'a', value: { text: '\u0000' } }],
    });
    expect(json.statusCode, json.body).toBe(400);
    expect(json.json()).toMatchObject({ errors: [{ path: 'body/variants/0/value/text' }] });
    const cursor = await call('GET', '/flags?cursor=a%00b');
    expect(cursor.statusCode, cursor.body).toBe(400);
    expect(cursor.json()).toMatchObject({ errors: [{ path: 'querystring/cursor' }] });
    // Anything else a cursor decodes to is only a place in the key order.
    expect((await call('GET', '/flags?cursor=%FF%FE%ED%A0%80')).statusCode).toBe(200);
  });
});

describe('a route using Redis while Redis is unreachable (through a proxy the test cuts)', () => {
  let proxy: TcpProxy;
  let redis: Redis;
  let app: App;

  beforeAll(async () => {
    const target = new URL(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    redis = createRedisClient(`redis://127.0.0.1:${proxy.port}`);
    redis.on('error', () => {});
    if (!(await whenReady(redis, 5_000))) throw new Error('Redis is not answering through the proxy');
    ({ app } = await createHttpServer({
      name: 'test',
      title: 'test',
      logger: pino({ level: 'silent' }),
      bodyLimit: 1024,
      trustProxy: false,
      routes: (scope) => void scope.get('/count', async () => ({ count: await redis.incr('tm-test:outage-count') })),
    }));
  });
  afterAll(async () => {
    await app?.close();
    redis?.disconnect();
    await proxy?.close();
  });

  it('answers 503 with Retry-After while cut (the error is a transient one), and 200 once restored', async () => {
    expect((await within(5_000, 'GET /count', app.inject({ url: '/count' }))).statusCode).toBe(200);
    proxy.cut();
    const failed: unknown = await within(
      5_000,
      'INCR',
      redis.incr('tm-test:outage-count').then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(isTransientInfrastructureError(failed), String(failed)).toBe(true);
    const during = await within(5_000, 'GET /count', app.inject({ url: '/count' }));
    expect(during.statusCode, during.body).toBe(503);
    expect(during.headers['retry-after']).toMatch(/^[1-9][0-9]*$/);

    proxy.restore();
    expect(await within(5_000, 'reconnection', whenReady(redis, 5_000))).toBe(true);
    expect((await within(5_000, 'GET /count', app.inject({ url: '/count' }))).statusCode).toBe(200);
  });
});
