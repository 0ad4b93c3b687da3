import { Registry } from 'prom-client';
import type { Kysely } from 'kysely';
import { createFlagsClient, type FlagsClient } from '../../shared/clients/flags-client.ts';
import type { Config } from '../../shared/config/config.ts';
import { createDatabase, migrateToLatest, pingDatabase } from '../../shared/db/database.ts';
import type { TokenVerifier } from '../../shared/http/authenticate.ts';
import { startServiceAccess } from '../../shared/access/service-access.ts';
import { createHttpServer, type ReadinessCheck } from '../../shared/http/server.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { listen, type ServiceContext, type StartedService } from '../../shared/runtime/service.ts';
import { targetingMigrations, targetingSchema } from './migrations/index.ts';
import { startTargetingPublisher } from './config-publisher.ts';
import { targetingRoutes } from './targeting-routes.ts';
import { createTargetingService } from './targeting-service.ts';
import type { TargetingStore } from './targeting-store.ts';
import { createMemoryTargetingStore } from './targeting-store.memory.ts';
import { createPostgresTargetingStore, type TargetingDatabase } from './targeting-store.postgres.ts';

/** One factory for both stores: PostgreSQL when given a database, memory otherwise (unit tests). */
export function createTargetingStore(db?: Kysely<TargetingDatabase>): TargetingStore {
  return db ? createPostgresTargetingStore(db) : createMemoryTargetingStore();
}

export async function migrateTargeting(db: Kysely<TargetingDatabase>): Promise<string[]> {
  return migrateToLatest(db as Kysely<unknown>, targetingSchema, targetingMigrations);
}

export async function buildTargetingApp(deps: {
  config: Config;
  logger: Logger;
  store: TargetingStore;
  flags: FlagsClient;
  verifier: TokenVerifier;
  readiness?: ReadinessCheck[];
  metrics?: Registry;
}) {
  const service = createTargetingService({ store: deps.store, flags: deps.flags });
  const served = await createHttpServer({
    name: 'targeting',
    title: 'ToggleMaster targeting',
    logger: deps.logger,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    trustProxy: deps.config.TRUST_PROXY,
    readiness: deps.readiness ?? [],
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    routes: targetingRoutes(service, deps.verifier),
  });
  return { ...served, service };
}

export async function startTargeting(ctx: ServiceContext): Promise<StartedService> {
  if (!ctx.pool) throw new Error('targeting needs its database');
  const db = createDatabase<TargetingDatabase>(ctx.pool, targetingSchema);
  if (ctx.config.MIGRATE_ON_START) await migrateTargeting(db);
  const logger = ctx.logger.child({ service: 'targeting' });
  // One registry for the service's /metrics, made first so that its background jobs report there too.
  const metrics = new Registry();
  const access = await startServiceAccess({ config: ctx.config, configCache: ctx.configCache, logger, metrics });
  const store = createTargetingStore(db);
  const served = await buildTargetingApp({
    config: ctx.config,
    logger,
    metrics,
    store,
    flags: createFlagsClient(ctx.config.FLAGS_URL),
    verifier: access.verifier,
    readiness: [
      { name: 'postgres', critical: true, check: () => pingDatabase(db as Kysely<unknown>) },
      { name: 'config-cache', critical: false, check: () => ctx.configCache.ping() },
    ],
  });
  const publisher = startTargetingPublisher({ pool: ctx.pool, schema: targetingSchema, store, cache: ctx.configCache, logger, metrics });
  return listen('targeting', served, ctx, async () => {
    await publisher.stop();
    await access.replica.stop();
  });
}
