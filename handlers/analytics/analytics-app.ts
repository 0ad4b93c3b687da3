import { Registry } from 'prom-client';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from '../../shared/config/config.ts';
import { createDynamoClient } from '../../shared/dynamo/client.ts';
import type { TokenVerifier } from '../../shared/http/authenticate.ts';
import { startServiceAccess } from '../../shared/access/service-access.ts';
import { createHttpServer, type ReadinessCheck } from '../../shared/http/server.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { listen, type ServiceContext, type StartedService } from '../../shared/runtime/service.ts';
import { analyticsRoutes } from './analytics-routes.ts';
import type { AnalyticsStore } from './analytics-store.ts';
import { createDynamoAnalyticsStore } from './analytics-store.dynamo.ts';
import { createMemoryAnalyticsStore } from './analytics-store.memory.ts';
import { createFlagProjects, type FlagProjects } from './flag-projects.ts';

/** One factory for both stores: DynamoDB when given a client, memory otherwise (unit tests). */
export function createAnalyticsStore(dynamo?: { client: DynamoDBClient; table: string; now?: () => number }): AnalyticsStore {
  return dynamo
    ? createDynamoAnalyticsStore(dynamo.client, dynamo.table, dynamo.now ? { now: dynamo.now } : {})
    : createMemoryAnalyticsStore();
}

export function tableReadiness(client: DynamoDBClient, table: string): ReadinessCheck {
  return { name: 'dynamodb', critical: true, check: async () => void (await client.send(new DescribeTableCommand({ TableName: table }))) };
}

export async function buildAnalyticsApp(deps: {
  config: Config;
  logger: Logger;
  store: AnalyticsStore;
  verifier: TokenVerifier;
  /** Which project each flag is in (the flags service by default): readers see only their projects' counts. */
  projects?: FlagProjects;
  readiness?: ReadinessCheck[];
  metrics?: Registry;
  now?: () => number;
}) {
  return createHttpServer({
    name: 'analytics',
    title: 'ToggleMaster analytics',
    logger: deps.logger,
    bodyLimit: Math.min(deps.config.BODY_LIMIT_BYTES, 65_536),
    trustProxy: deps.config.TRUST_PROXY,
    readiness: deps.readiness ?? [],
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    routes: analyticsRoutes({
      store: deps.store,
      verifier: deps.verifier,
      projects: deps.projects ?? createFlagProjects(deps.config.FLAGS_URL),
      ...(deps.now ? { now: deps.now } : {}),
    }),
  });
}

export async function startAnalytics(ctx: ServiceContext): Promise<StartedService> {
  const client = createDynamoClient(ctx.config);
  const logger = ctx.logger.child({ service: 'analytics' });
  // One registry for the service's /metrics, made first so that its background jobs report there too.
  const metrics = new Registry();
  const access = await startServiceAccess({ config: ctx.config, configCache: ctx.configCache, logger, metrics });
  const served = await buildAnalyticsApp({
    config: ctx.config,
    logger,
    metrics,
    store: createAnalyticsStore({ client, table: ctx.config.DYNAMODB_TABLE }),
    verifier: access.verifier,
    readiness: [tableReadiness(client, ctx.config.DYNAMODB_TABLE)],
  });
  return listen('analytics', served, ctx, async () => {
    await access.replica.stop();
    client.destroy();
  });
}
