import { Registry } from 'prom-client';
import type { Kysely } from 'kysely';
import { createTargetingClient, type FlagRulesClient } from '../../shared/clients/targeting-client.ts';
import type { Config } from '../../shared/config/config.ts';
import { createDatabase, migrateToLatest, pingDatabase } from '../../shared/db/database.ts';
import type { TokenVerifier } from '../../shared/http/authenticate.ts';
import { startServiceAccess } from '../../shared/access/service-access.ts';
import { createHttpServer, type ReadinessCheck } from '../../shared/http/server.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { listen, type ServiceContext, type StartedService } from '../../shared/runtime/service.ts';
import { createFlagService } from './flag-service.ts';
import type { FlagStore } from './flag-store.ts';
import { createMemoryFlagStore } from './flag-store.memory.ts';
import { createPostgresFlagStore, type FlagsDatabase } from './flag-store.postgres.ts';
import { flagsRoutes } from './flags-routes.ts';
import { flagsMigrations, flagsSchema } from './migrations/index.ts';
import { startFlagsPublisher } from './config-publisher.ts';
import { bullConnection } from '../../shared/queue/bullmq.ts';
import { createBullAlarmClock, releaseQueue, sweepOnly } from './schedules/bullmq-alarm-clock.ts';
import { createScheduleService, type AlarmClock } from './schedules/schedule-service.ts';
import { createReleasePlanService } from './release-plans/release-plan-service.ts';
import { webhookRoutes } from './webhook-routes.ts';
import { createWebhookService } from './webhooks/webhook-service.ts';
import type { WebhookStore } from './webhooks/webhook-store.ts';
import { createMemoryWebhookStore } from './webhooks/webhook-store.memory.ts';
import { createPostgresWebhookStore } from './webhooks/webhook-store.postgres.ts';
import { createTargetGuard, type TargetGuard } from './webhooks/target-guard.ts';
import type { EnvironmentStore } from './environments/environment-store.ts';
import { createMemoryEnvironmentStore } from './environments/environment-store.memory.ts';
import { createPostgresEnvironmentStore } from './environments/environment-store.postgres.ts';
import { createEnvironmentService } from './environments/environment-service.ts';
import { environmentUsage } from './environments/environment-usage.ts';
import type { ProjectStore } from './projects/project-store.ts';
import { createMemoryProjectStore } from './projects/project-store.memory.ts';
import { createPostgresProjectStore } from './projects/project-store.postgres.ts';
import { createProjectService } from './projects/project-service.ts';
import { projectUsage } from './projects/project-usage.ts';
import { projectScopes } from './routes/project-scopes.ts';
import { createChangeRequestService } from './change-requests/change-request-service.ts';

/** One factory for both stores: PostgreSQL when given a database, memory otherwise (unit tests). */
export function createFlagStore(db?: Kysely<FlagsDatabase>): FlagStore {
  return db ? createPostgresFlagStore(db, flagsSchema) : createMemoryFlagStore();
}

/** The webhooks' store from the same factory: PostgreSQL when given the database, memory otherwise. */
export function createWebhookStore(db?: Kysely<FlagsDatabase>): WebhookStore {
  return db ? createPostgresWebhookStore(db) : createMemoryWebhookStore();
}

/** The projects' store from the same factory. */
export function createProjectStore(db?: Kysely<FlagsDatabase>): ProjectStore {
  return db ? createPostgresProjectStore(db as unknown as Parameters<typeof createPostgresProjectStore>[0]) : createMemoryProjectStore();
}

/** The environments' store from the same factory. */
export function createEnvironmentStore(db?: Kysely<FlagsDatabase>): EnvironmentStore {
  return db
    ? createPostgresEnvironmentStore(db as unknown as Parameters<typeof createPostgresEnvironmentStore>[0])
    : createMemoryEnvironmentStore();
}

export async function migrateFlags(db: Kysely<FlagsDatabase>): Promise<string[]> {
  return migrateToLatest(db as Kysely<unknown>, flagsSchema, flagsMigrations);
}

/** `targeting` says which rules serve a variant an update removes; by default, the service at TARGETING_URL. */
export async function buildFlagsApp(deps: {
  config: Config;
  logger: Logger;
  store: FlagStore;
  verifier: TokenVerifier;
  targeting?: FlagRulesClient;
  readiness?: ReadinessCheck[];
  metrics?: Registry;
  /** Reminds the release worker of scheduled changes; without it the worker's sweep finds them. */
  alarm?: AlarmClock;
  /** The environments table; memory by default (unit tests), seeded from ENVIRONMENTS when empty. */
  environmentStore?: EnvironmentStore;
  /** The projects table; memory by default (unit tests). */
  projectStore?: ProjectStore;
  /** The webhooks' subscriptions and log; memory by default (unit tests). */
  webhookStore?: WebhookStore;
  /** Where webhook targets may point; by default the configured policy over the system's resolver. */
  targetGuard?: TargetGuard;
}) {
  const { config } = deps;
  const webhookStore = deps.webhookStore ?? createMemoryWebhookStore();
  const webhooks = createWebhookService({
    store: webhookStore,
    guard:
      deps.targetGuard ??
      createTargetGuard({ allowedNetworks: config.WEBHOOK_ALLOWED_NETWORKS, allowedHosts: config.WEBHOOK_ALLOWED_HOSTS }),
    expiresInMs: config.WEBHOOK_GIVE_UP_AFTER_HOURS * 3_600_000,
  });
  const targeting = deps.targeting ?? createTargetingClient(deps.config.TARGETING_URL);
  const environmentStore = deps.environmentStore ?? createMemoryEnvironmentStore();
  const environments = createEnvironmentService({
    store: environmentStore,
    usage: environmentUsage({ store: deps.store, targeting, authUrl: config.AUTH_URL }),
  });
  // ENVIRONMENTS names the environments of a deployment's first start only; the table is the truth after that.
  await environments.seed(config.ENVIRONMENTS);
  const service = createFlagService({ store: deps.store, environments: environmentStore, targeting });
  const projects = createProjectService({
    store: deps.projectStore ?? createMemoryProjectStore(),
    usage: projectUsage({ store: deps.store, webhooks: webhookStore, targetingUrl: config.TARGETING_URL, authUrl: config.AUTH_URL }),
  });
  const inProject = projectScopes({ store: deps.store, webhooks: webhookStore, projectExists: projects.exists });
  const schedules = createScheduleService({
    store: deps.store,
    flags: service,
    alarm: deps.alarm ?? sweepOnly,
    onAlarmFailure: (error, schedule) =>
      deps.logger.warn(
        { err: error, scheduleId: schedule.id },
        'could not set the alarm of a scheduled change; the release worker will find it by its sweep',
      ),
  });
  const releasePlans = createReleasePlanService({ store: deps.store, flags: service });
  const changeRequests = createChangeRequestService({
    store: deps.store,
    flags: service,
    schedules,
    releasePlans,
    environments: environmentStore,
    targeting,
  });
  const served = await createHttpServer({
    name: 'flags',
    title: 'ToggleMaster flags',
    logger: deps.logger,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    trustProxy: deps.config.TRUST_PROXY,
    readiness: deps.readiness ?? [],
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    routes: (app) => {
      flagsRoutes({ service, schedules, releasePlans, environments, changeRequests, projects, inProject }, deps.verifier)(app);
      webhookRoutes(webhooks, inProject, deps.verifier)(app);
    },
  });
  return { ...served, service };
}

export async function startFlags(ctx: ServiceContext): Promise<StartedService> {
  if (!ctx.pool) throw new Error('flags needs its database');
  const db = createDatabase<FlagsDatabase>(ctx.pool, flagsSchema);
  if (ctx.config.MIGRATE_ON_START) await migrateFlags(db);
  const logger = ctx.logger.child({ service: 'flags' });
  // One registry for the service's /metrics, made first so that its background jobs report there too.
  const metrics = new Registry();
  const access = await startServiceAccess({ config: ctx.config, configCache: ctx.configCache, logger, metrics });
  const alarm = ctx.config.REDIS_URL
    ? createBullAlarmClock(bullConnection(ctx.config.REDIS_URL, ctx.config.REDIS_PASSWORD), releaseQueue, logger)
    : undefined;
  const served = await buildFlagsApp({
    config: ctx.config,
    logger,
    metrics,
    ...(alarm ? { alarm } : {}),
    store: createFlagStore(db),
    webhookStore: createWebhookStore(db),
    environmentStore: createEnvironmentStore(db),
    projectStore: createProjectStore(db),
    targeting: createTargetingClient(ctx.config.TARGETING_URL),
    verifier: access.verifier,
    readiness: [
      { name: 'postgres', critical: true, check: () => pingDatabase(db as Kysely<unknown>) },
      // Changes are kept in the outbox while the cache is away: degraded, not down.
      { name: 'config-cache', critical: false, check: () => ctx.configCache.ping() },
    ],
  });
  const publisher = startFlagsPublisher({
    pool: ctx.pool,
    schema: flagsSchema,
    service: served.service,
    cache: ctx.configCache,
    logger,
    metrics,
  });
  return listen('flags', served, ctx, async () => {
    await publisher.stop();
    await access.replica.stop();
    await alarm?.close();
  });
}
