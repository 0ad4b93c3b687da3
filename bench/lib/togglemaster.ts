/**
 * ToggleMaster as production runs it, one process per role (`node handlers/main.ts <role>`), against a PostgreSQL
 * database and a Redis key prefix of the benchmark's own and the SQS / DynamoDB stand-ins in their own processes.
 * Settings are production's: NODE_ENV=production, REDIS_URL, a generated ES256 signing key, LOG_LEVEL=warn,
 * EVENTS_TRANSPORT=sqs (events and metrics on).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { baseEnvironment, freePort, onCleanup, repoRoot, runNode, startNode, waitForHttp, type Child } from './processes.ts';
import { startSqsStandIn, type SqsStandIn } from './stand-ins.ts';

export const postgresAdminUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
/**
 * The product under test: this checkout, or another one (BENCH_PRODUCT_DIR, e.g. a copy with a candidate fix) with
 * the same bench driving it, to compare before and after on the same machine in the same hour.
 */
export const productDir = path.resolve(process.env.BENCH_PRODUCT_DIR ?? repoRoot);
const mainScript = path.join(productDir, 'handlers', 'main.ts');
/** What the production image runs instead of the sources (scripts/build-roles.ts; docs/adr/0014-bundled-roles.md). */
export const bundleScript = path.join(productDir, 'dist', 'server', 'main.js');
/** The image's node flags before the script, read from its Dockerfile's ENTRYPOINT (an older checkout's too). */
export const bundleNodeArgs =
  /exec node ([^"]*?)\s*dist\/server\/main\.js/
    .exec(readFileSync(path.join(productDir, 'Dockerfile'), 'utf8'))?.[1]
    ?.split(/\s+/)
    .filter(Boolean) ?? [];
/** And its environment: V8's compiled code of the bundle's modules, made by the build (scripts/build-roles.ts). */
export const bundleEnvironment = { NODE_COMPILE_CACHE: path.join(productDir, 'dist', 'server', '.compile-cache') };

/**
 * Builds the bundle of the product under test (as `npm install` and the image build do), so a benchmark never runs
 * a stale one; false when that checkout has no bundle build (one from before it existed).
 */
export async function buildBundle(): Promise<boolean> {
  const script = path.join(productDir, 'scripts', 'build-roles.ts');
  if (!existsSync(script)) return false;
  await runNode('build-roles', script, [], baseEnvironment());
  return existsSync(bundleScript);
}

/**
 * The Node.js options the production image sets (its Dockerfile's `ENV NODE_OPTIONS=…`), so the benchmark runs
 * the processes with the same heap settings; BENCH_NODE_OPTIONS overrides them to try others.
 */
export const productNodeOptions =
  process.env.BENCH_NODE_OPTIONS ??
  /^\s*NODE_OPTIONS="([^"]*)"/m.exec(readFileSync(path.join(productDir, 'Dockerfile'), 'utf8'))?.[1] ??
  '';

export type ServiceRole =
  'auth' | 'flags' | 'targeting' | 'evaluation' | 'analytics' | 'analytics-worker' | 'release-worker' | 'webhook-worker' | 'console';

export interface RunningRole {
  role: ServiceRole;
  child: Child;
  url: string;
  /** Process spawn → /readyz answering 200. */
  readyMs: number;
}

export interface StartRoleOptions {
  env?: Record<string, string>;
  nodeArgs?: string[];
  name?: string;
  from?: 'sources' | 'bundle';
}

export interface Togglemaster {
  env: Record<string, string>;
  sqs: SqsStandIn;
  auth: RunningRole;
  flags: RunningRole;
  targeting: RunningRole;
  evaluations: RunningRole[];
  sdkKey: string;
  /**
   * Starts one more process of a role (its own port), waits for /readyz, and tracks it. From the sources by default
   * (`node handlers/main.ts <role>`); `from: 'bundle'` runs it as the image does (build it first: buildBundle()).
   */
  startRole(role: ServiceRole, options?: StartRoleOptions): Promise<RunningRole>;
  api<T = unknown>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Stops every process of the platform (the clean-ups drop the database and the keys). */
  stop(): Promise<void>;
}

export async function createDatabase(prefix: string): Promise<string> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  onCleanup(async () => {
    const client = new pg.Client({ connectionString: postgresAdminUrl });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  });
  return name;
}

export function databaseUrl(name: string): string {
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A key prefix of the benchmark's own, deleted at the end. */
export function redisPrefix(): string {
  const prefix = `tm-bench-${randomBytes(3).toString('hex')}:`;
  onCleanup(async () => {
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
      // BullMQ is not used here (EVENTS_TRANSPORT=sqs); nothing else is written outside the prefix.
    } finally {
      redis.disconnect();
    }
  });
  return prefix;
}

export async function untilAdmitted(url: string, sdkKey: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    // "_" is no flag key: answered 404 after the key check, without an evaluation or an event the counts would see.
    const response = await fetch(`${url}/ofrep/v1/evaluate/flags/_`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': sdkKey },
      body: '{"context":{}}',
    });
    await response.arrayBuffer();
    if (response.status !== 401) return;
    if (performance.now() > deadline) throw new Error(`${url} still refuses the benchmark's SDK key after 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const admin = { email: 'bench-admin@example.com', password: `bench-${randomBytes(12).toString('hex')}` };

export async function startTogglemaster(options: {
  name: string;
  evaluations: number;
  env?: Record<string, string>;
  dynamoEndpoint?: string;
}): Promise<Togglemaster> {
  const database = await createDatabase(`tm_bench_${options.name}`);
  const sqs = await startSqsStandIn(`${options.name}-sqs`);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ports = { auth: await freePort(), flags: await freePort(), targeting: await freePort() };
  const env: Record<string, string> = {
    ...baseEnvironment(),
    NODE_OPTIONS: productNodeOptions,
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl(database),
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: redisPrefix(),
    AUTH_JWT_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
    AUTH_URL: `http://127.0.0.1:${ports.auth}`,
    FLAGS_URL: `http://127.0.0.1:${ports.flags}`,
    TARGETING_URL: `http://127.0.0.1:${ports.targeting}`,
    EVENTS_TRANSPORT: 'sqs',
    SQS_QUEUE_URL: sqs.queueUrl,
    SQS_DLQ_URL: sqs.deadLetterUrl,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    ...(options.dynamoEndpoint ? { AWS_ENDPOINT_URL_DYNAMODB: options.dynamoEndpoint } : {}),
    ...options.env,
  };

  await runNode(`${options.name}-migrate`, mainScript, ['migrate', 'auth', 'flags', 'targeting'], env);

  const running: RunningRole[] = [];
  let counter = 0;
  async function startRole(role: ServiceRole, extra: StartRoleOptions & { port?: number } = {}): Promise<RunningRole> {
    const port = extra.port ?? (await freePort());
    const name = extra.name ?? `${options.name}-${role}-${++counter}`;
    const bundled = extra.from === 'bundle';
    const nodeArgs = [...(bundled ? bundleNodeArgs : []), ...(extra.nodeArgs ?? [])];
    const spawned = performance.now();
    const child = startNode(name, bundled ? bundleScript : mainScript, [role], {
      env: { ...env, ...(bundled ? bundleEnvironment : {}), ...extra.env, PORT: String(port) },
      ...(nodeArgs.length > 0 ? { nodeArgs } : {}),
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/readyz`, { child, timeoutMs: 60_000, intervalMs: 5 });
    const entry = { role, child, url, readyMs: performance.now() - spawned };
    running.push(entry);
    return entry;
  }

  const [auth, flags, targeting] = await Promise.all([
    startRole('auth', { port: ports.auth }),
    startRole('flags', { port: ports.flags }),
    startRole('targeting', { port: ports.targeting }),
  ]);
  const evaluations: RunningRole[] = [];
  for (let i = 0; i < options.evaluations; i++)
    evaluations.push(await startRole('evaluation', { ...(options.env ? { env: options.env } : {}) }));

  // One login at a time: requests in flight when the token ages must share the new one (auth limits sign-ins).
  let token: Promise<string> | undefined;
  let tokenAt = 0;
  async function login(): Promise<string> {
    const response = await fetch(`${auth.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    });
    if (response.status !== 200) throw new Error(`admin login failed: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { accessToken: string }).accessToken;
  }
  function adminToken(): Promise<string> {
    // Access tokens live 15 minutes; a benchmark run can be longer.
    if (!token || performance.now() - tokenAt > 10 * 60_000) {
      tokenAt = performance.now();
      token = login().catch((error: unknown) => {
        token = undefined;
        throw error;
      });
    }
    return token;
  }
  async function api<T = unknown>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${await adminToken()}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  const key = await api<{ key: string }>('POST', `${auth.url}/auth/api-keys`, { environment: 'production', name: 'benchmark' });
  if (key.status !== 201) throw new Error(`could not create an SDK key: ${key.status} ${JSON.stringify(key.body)}`);
  // A new key reaches the evaluation instances through the change path (within 1 s): measure only once they admit it.
  for (const evaluation of evaluations) await untilAdmitted(evaluation.url, key.body.key);

  return {
    env,
    sqs,
    auth,
    flags,
    targeting,
    evaluations,
    sdkKey: key.body.key,
    startRole,
    api,
    async stop() {
      await Promise.all(running.map((r) => r.child.stop()));
      await sqs.child.stop();
    },
  };
}

/** Creates many things through an API with a few requests in flight, failing on the first non-2xx answer. */
export async function inParallel<T>(items: T[], concurrency: number, each: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        await each(items[index] as T, index);
      }
    }),
  );
}

export function expectStatus(what: string, answer: { status: number; body: unknown }, ...statuses: number[]): void {
  if (!statuses.includes(answer.status)) throw new Error(`${what}: HTTP ${answer.status} ${JSON.stringify(answer.body).slice(0, 500)}`);
}
