import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { testConfig } from '../../shared/testing/config.ts';
import { createTestDatabase } from '../../shared/testing/postgres.ts';
import { startTcpProxy, type TcpProxy } from '../../shared/testing/tcp-proxy.ts';
import { freePort } from '../../shared/testing/free-port.ts';
import { createPool } from '../../shared/db/database.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import type { Config, Role, WorkerRole } from '../../shared/config/config.ts';
import type { StartedService } from '../../shared/runtime/service.ts';
import { migrate, services, workers } from '../roles.ts';
import { createCaches } from '../start-role.ts';

export interface Platform {
  config: Config;
  /** The suite's database, which every service and worker of the platform uses (each in its own schema). */
  databaseUrl: string;
  urls: Record<string, string>;
  /** The auth service as running now (see `restartAuth`). */
  readonly auth: StartedService;
  /** Starts auth again on its port (after `stopService(platform.auth)`), with the same signing key, as a new process. */
  restartAuth(): Promise<StartedService>;
  evaluations: StartedService[];
  adminToken: string;
  sdkKey: string;
  /** With `databaseProxy`: the services' way to PostgreSQL, to cut and restore (an outage of the database). */
  database?: TcpProxy;
  /** Starts one more evaluation instance (as a new process would: its own clients, an empty memory). */
  startEvaluation(): Promise<StartedService>;
  /** Starts a service the platform does not start itself (analytics), as its own process would. */
  startService(role: Role): Promise<StartedService>;
  /** Starts a worker as its own process would (its own pool to the suite's database, its own Redis clients). */
  startWorker(role: WorkerRole): Promise<StartedService>;
  stopService(service: StartedService): Promise<void>;
  call<T = unknown>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/**
 * The real services, each as it runs in production (its own Redis clients, outbox relay, HTTP server on a free
 * port), against one PostgreSQL database of the suite's own and the given Redis.
 */
export async function startPlatform(options: {
  redisUrl: string;
  evaluationInstances: number;
  overrides?: Record<string, string>;
  databaseProxy?: boolean;
}): Promise<Platform> {
  const database = await createTestDatabase<unknown>('platform');
  const databaseUrl = new URL(database.url);
  const proxy = options.databaseProxy
    ? await startTcpProxy({ host: databaseUrl.hostname, port: Number(databaseUrl.port || 5432) })
    : undefined;
  if (proxy) Object.assign(databaseUrl, { hostname: '127.0.0.1', port: String(proxy.port) });
  const prefix = `tm-test-${randomBytes(3).toString('hex')}:`;
  const admin = { email: 'admin@example.com', password: 'platform-admin-password' };
  // One signing key for the deployment, as production has: a restarted auth signs and publishes the same one.
  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const config: Config = {
    ...testConfig({
      REDIS_URL: options.redisUrl,
      REDIS_KEY_PREFIX: prefix,
      ADMIN_EMAIL: admin.email,
      ADMIN_PASSWORD: admin.password,
      AUTH_JWT_PRIVATE_KEY: signingKey,
      ...options.overrides,
    }),
    HOST: '127.0.0.1',
  };
  await migrate(database.pool, ['auth', 'flags', 'targeting']);
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'platform');
  const started: { service: StartedService; close: () => Promise<void> }[] = [];

  async function startRole(role: Role, port = 0): Promise<StartedService> {
    const caches = await createCaches(config, logger);
    const pool = services[role]?.database
      ? createPool(
          { DATABASE_POOL_MAX: 5, DATABASE_SSL: 'off', DATABASE_URL: undefined },
          { logger, connectionString: databaseUrl.toString() },
        )
      : undefined;
    const service = await services[role]!.start({
      config,
      logger,
      cache: caches.cache,
      configCache: caches.configCache,
      port,
      ...(pool ? { pool } : {}),
    });
    started.push({
      service,
      close: async () => {
        await caches.close();
        await pool?.end();
      },
    });
    return service;
  }

  let auth = await startRole('auth');
  config.AUTH_URL = auth.url;
  // Flags and targeting call each other (variants in use, a purge's rules): targeting's port is chosen first, so that
  // flags starts knowing where it will be.
  const targetingPort = await freePort();
  config.TARGETING_URL = `http://127.0.0.1:${targetingPort}`;
  const flags = await startRole('flags');
  config.FLAGS_URL = flags.url;
  const targeting = await startRole('targeting', targetingPort);
  const evaluations: StartedService[] = [];
  for (let i = 0; i < options.evaluationInstances; i++) evaluations.push(await startRole('evaluation'));

  let adminToken = '';
  async function call<T = unknown>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(url, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(adminToken ? { authorization: `Bearer ${adminToken}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
  adminToken = (await call<{ accessToken: string }>('POST', `${auth.url}/auth/login`, admin)).body.accessToken;
  const sdkKey = (await call<{ key: string }>('POST', `${auth.url}/auth/api-keys`, { environment: 'production', name: 'platform test' }))
    .body.key;

  async function stopService(service: StartedService) {
    const index = started.findIndex((s) => s.service === service);
    if (index === -1) return;
    const [entry] = started.splice(index, 1);
    await entry!.service.stop();
    await entry!.close();
  }

  return {
    config,
    databaseUrl: databaseUrl.toString(),
    urls: { auth: auth.url, flags: flags.url, targeting: targeting.url },
    evaluations,
    get auth() {
      return auth;
    },
    async restartAuth() {
      auth = await startRole('auth', Number(new URL(config.AUTH_URL).port));
      return auth;
    },
    adminToken,
    sdkKey,
    startEvaluation: () => startRole('evaluation'),
    startService: (role) => startRole(role),
    async startWorker(role) {
      const service = await workers[role]({ config: { ...config, DATABASE_URL: databaseUrl.toString() }, logger, port: 0 });
      started.push({ service, close: async () => {} });
      return service;
    },
    stopService,
    call,
    ...(proxy ? { database: proxy } : {}),
    async stop() {
      for (const entry of [...started].reverse()) await stopService(entry.service);
      await proxy?.close();
      await database.drop();
    },
  };
}

/**
 * The platform with its events on the SQS stand-in and its analytics table on the DynamoDB stand-in (a table of its
 * own), as the integration tests of the events path need it; `stop()` stops the stand-ins too.
 */
export async function startPlatformWithAws(options: { redisUrl: string; overrides?: Record<string, string> }) {
  // Loaded here: the other suites on the platform need neither the stand-ins nor the AWS SDK.
  const { startLocalAws } = await import('../../shared/local-aws.ts');
  const { createDynamoClient } = await import('../../shared/dynamo/client.ts');
  const { ensureAnalyticsTable } = await import('../../shared/dynamo/analytics-table.ts');
  const aws = await startLocalAws({ visibilityTimeout: 5 });
  const table = `analytics-${randomBytes(3).toString('hex')}`;
  const dynamo = createDynamoClient({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint });
  await ensureAnalyticsTable(dynamo, table);
  const platform = await startPlatform({
    redisUrl: options.redisUrl,
    evaluationInstances: 1,
    overrides: {
      EVENTS_TRANSPORT: 'sqs',
      SQS_QUEUE_URL: aws.queueUrl,
      SQS_DLQ_URL: aws.deadLetterUrl,
      AWS_ENDPOINT_URL_SQS: aws.sqsEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint,
      DYNAMODB_TABLE: table,
      ...options.overrides,
    },
  });
  return {
    platform,
    /** The analytics table's client, for a test to read what the worker wrote. */
    dynamo,
    table,
    async stop() {
      await platform.stop();
      dynamo.destroy();
      await aws.stop();
    },
  };
}
