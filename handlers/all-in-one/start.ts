import { randomBytes } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  portOf,
  requireFor,
  serviceUrlVariables,
  type Config,
  type FrontendRole,
  type Role,
  type WorkerRole,
} from '../../shared/config/config.ts';
import { createMemoryCache } from '../../shared/cache/memory-cache.ts';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import { createPool } from '../../shared/db/database.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { stopOnSignal } from '../../shared/runtime/lifecycle.ts';
import { assertPortFree, type StartedService } from '../../shared/runtime/service.ts';
import { frontends, migrate, services, workers, type StandaloneStart } from '../roles.ts';
import { startLocalAws } from '../../shared/local-aws.ts';
import { createDynamoClient } from '../../shared/dynamo/client.ts';
import { ensureAnalyticsTable } from '../../shared/dynamo/analytics-table.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import { seedDemo } from './seed.ts';

interface LocalState {
  adminEmail: string;
  adminPassword: string;
  sdkKey?: string;
}

/** What the first start made up (admin password, demo SDK key), kept beside the data so every start can print it. */
async function localState(dataDir: string, config: Config): Promise<LocalState> {
  const file = join(dataDir, 'all-in-one.json');
  const saved = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as LocalState,
    () => undefined,
  );
  const state: LocalState = saved ?? { adminEmail: 'admin@togglemaster.local', adminPassword: randomBytes(12).toString('base64url') };
  if (config.ADMIN_EMAIL && config.ADMIN_PASSWORD)
    Object.assign(state, { adminEmail: config.ADMIN_EMAIL, adminPassword: config.ADMIN_PASSWORD });
  return state;
}

async function saveState(dataDir: string, state: LocalState): Promise<void> {
  await writeFile(join(dataDir, 'all-in-one.json'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/**
 * Every service in one process, each on its production port, on embedded defaults: PGlite for PostgreSQL and an
 * in-process cache for Redis. For trying ToggleMaster and for development, not for production.
 */
export async function startAllInOne(base: Config, logger: Logger, stopTelemetry: () => Promise<void>): Promise<StartedService[]> {
  const dataDir = resolve(base.DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  const state = await localState(dataDir, base);
  // Loopback unless told otherwise: the embedded admin password is printed on the console.
  const host = process.env.HOST ? base.HOST : '127.0.0.1';
  const config: Config = {
    ...base,
    HOST: host,
    MIGRATE_ON_START: true,
    // A page on any origin may try the web SDKs against it (production sets its own list, or none).
    CORS_ALLOWED_ORIGINS: base.CORS_ALLOWED_ORIGINS ?? '*',
    ADMIN_EMAIL: state.adminEmail,
    ADMIN_PASSWORD: state.adminPassword,
    // A demo: anyone trying it may make an account from the sign-in page (production leaves it off unless set).
    SELF_REGISTRATION: process.env.SELF_REGISTRATION ? base.SELF_REGISTRATION : 'on',
  };
  const roles = Object.keys(services) as Role[];
  // The services (and the console) find each other on loopback, at the ports this process gives them.
  for (const role of roles) config[serviceUrlVariables[role]] = `http://127.0.0.1:${portOf(role, config, false)}`;
  // Invitation links point at the console this process serves; on another HOST they stay paths, which the console
  // completes with the address it was opened at.
  if (host === '127.0.0.1') config.CONSOLE_URL ??= `http://127.0.0.1:${portOf('console', config, false)}`;
  requireFor(config, roles, { embedded: true });
  // A second `npm start` stops here, before it opens the data directory the first one is using.
  for (const role of [...roles, ...Object.keys(workers), ...Object.keys(frontends)] as (Role | WorkerRole | FrontendRole)[])
    await assertPortFree(role, host, portOf(role, config, false));

  const postgres = await startEmbeddedPostgres(join(dataDir, 'pglite'));
  // SQS and DynamoDB stand-ins in this process: the production adapters run unchanged against them.
  const aws = await startLocalAws({ dataDir });
  Object.assign(config, {
    EVENTS_TRANSPORT: 'sqs',
    SQS_QUEUE_URL: aws.queueUrl,
    SQS_DLQ_URL: aws.deadLetterUrl,
    AWS_ENDPOINT_URL_SQS: aws.sqsEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint,
  } satisfies Partial<Config>);
  const dynamo = createDynamoClient(config);
  await ensureAnalyticsTable(dynamo, config.DYNAMODB_TABLE);
  dynamo.destroy();
  const pool = createPool(config, { logger, connectionString: postgres.url });
  const cache = createMemoryCache();
  const configCache = createMemoryConfigCache();
  await migrate(pool, roles);

  const started: StartedService[] = [];
  const stopAll = async () => {
    for (const service of [...started].reverse()) await service.stop();
    await pool.end();
    await Promise.allSettled([cache.close(), configCache.close(), postgres.stop(), aws.stop(), stopTelemetry()]);
  };
  stopOnSignal(logger, config.SHUTDOWN_TIMEOUT_MS, stopAll);
  try {
    for (const role of roles)
      started.push(await services[role]!.start({ config, logger, pool, cache, configCache, port: portOf(role, config, false) }));
    // The worker, then the web console: one origin with the APIs it proxies (as behind the production Ingress).
    for (const [role, start] of Object.entries({ ...workers, ...frontends }) as [WorkerRole | FrontendRole, StandaloneStart][])
      started.push(await start({ config, logger, pool, port: portOf(role, config, false) }));
  } catch (error) {
    await stopAll();
    throw error;
  }

  const urls = Object.fromEntries(started.map((s) => [s.name, s.url]));
  if (config.SEED_DEMO)
    state.sdkKey =
      (await seedDemo({ urls, admin: { email: state.adminEmail, password: state.adminPassword }, sdkKey: state.sdkKey, logger })) ??
      state.sdkKey;
  await saveState(dataDir, state);

  const lines = [
    '',
    `ToggleMaster is running (all-in-one: embedded PostgreSQL, SQS and DynamoDB stand-ins; data in ${dataDir})`,
    ...started.map(
      (s) =>
        `  ${s.name.padEnd(16)} ${s.url}   ${s.name in services ? `API docs: ${s.url}/docs/${s.name}` : s.name === 'console' ? `open ${s.url}/console/` : 'health and metrics'}`,
    ),
    `  admin login      ${state.adminEmail} / ${state.adminPassword}`,
    ...(state.sdkKey ? [`  SDK key          ${state.sdkKey}   (environment: development)`] : []),
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return started;
}
