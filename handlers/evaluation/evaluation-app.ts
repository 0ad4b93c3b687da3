import type { ConfigCache } from '../../shared/propagation/config-cache.ts';
import type { Config } from '../../shared/config/config.ts';
import type { SdkKeyVerifier } from '../../shared/http/sdk-keys.ts';
import { startServiceAccess } from '../../shared/access/service-access.ts';
import type { AccessReplica } from '../../shared/access/access-replica.ts';
import { createHttpServer } from '../../shared/http/server.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { listen, type ServiceContext, type StartedService } from '../../shared/runtime/service.ts';
import { createConfigurationReplica, type ConfigurationReplica } from './configuration-replica.ts';
import { evaluationRoutes } from './evaluation-routes.ts';
import { createStreamHub } from './event-streams/stream-hub.ts';
import type { EventStreams } from './routes/route-deps.ts';
import { Registry } from 'prom-client';
import { createEventPublisher, noEvents, type EventRecorder } from '../../shared/events/event-publisher.ts';
import { createEventProducer } from '../../shared/queue/transport.ts';
import { createIngestSender, type IngestSender } from '../../shared/events/ingest-sender.ts';

export async function buildEvaluationApp(deps: {
  config: Config;
  logger: Logger;
  replica: ConfigurationReplica;
  cache: ConfigCache;
  sdkKeys: SdkKeyVerifier;
  access?: Pick<AccessReplica, 'loaded'>;
  events?: EventRecorder;
  metrics?: Registry;
  eventStreams?: EventStreams;
  ingest?: IngestSender;
}) {
  const served = await createHttpServer({
    name: 'evaluation',
    title: 'ToggleMaster evaluation (with OFREP)',
    logger: deps.logger,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    trustProxy: deps.config.TRUST_PROXY,
    readiness: [
      // Without the cache, evaluation still answers from memory: degraded, not down.
      { name: 'config-cache', critical: false, check: () => deps.cache.ping() },
      {
        name: 'config-current',
        critical: false,
        check: async () => {
          if (deps.replica.behind) throw new Error('behind');
        },
      },
      // Until the SDK keys were read once, no key can be admitted: not ready for traffic.
      {
        name: 'sdk-keys',
        critical: true,
        check: async () => {
          if (deps.access && !deps.access.loaded) throw new Error('not loaded');
        },
      },
    ],
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    // A connection a stream client left open (undici keeps an aborted one for seconds) must not hold the close:
    // a second after it began, when every request in flight has long been answered, what is left is closed.
    closeLingeringAfterMs: 1_000,
    routes: evaluationRoutes({
      replica: deps.replica,
      sdkKeys: deps.sdkKeys,
      events: deps.events ?? noEvents,
      eventStreams: deps.eventStreams,
      ingest: deps.ingest,
      corsAllowedOrigins: deps.config.CORS_ALLOWED_ORIGINS,
    }),
  });
  // Streams never end by themselves: ended first, so each client reconnects elsewhere.
  served.app.addHook('preClose', (done) => {
    deps.eventStreams?.hub.close();
    done();
  });
  return served;
}

export async function startEvaluation(ctx: ServiceContext): Promise<StartedService> {
  const logger = ctx.logger.child({ service: 'evaluation' });
  // One registry for the service's /metrics, made first so that its background jobs report there too.
  const metrics = new Registry();
  const replica = createConfigurationReplica({ cache: ctx.configCache, logger, metrics });
  await replica.start();
  const access = await startServiceAccess({ config: ctx.config, configCache: ctx.configCache, logger, metrics });
  const producer = await createEventProducer(ctx.config, logger);
  const publisher =
    producer &&
    createEventPublisher({
      producer,
      maxBuffered: ctx.config.EVENTS_BUFFER_MAX,
      intervalMs: ctx.config.EVENTS_FLUSH_INTERVAL_MS,
      keySalt: ctx.config.EVENTS_KEY_SALT,
      logger,
      metrics,
    });
  publisher?.start();
  const eventStreams =
    ctx.config.EVENT_STREAMS_MAX > 0
      ? {
          hub: createStreamHub({
            versions: replica.versions,
            access: access.replica,
            logger,
            metrics,
            maxStreams: ctx.config.EVENT_STREAMS_MAX,
          }),
          keyById: (id: string) => access.replica.sdkKeyById(id),
        }
      : undefined;
  const served = await buildEvaluationApp({
    config: ctx.config,
    logger,
    replica,
    cache: ctx.configCache,
    sdkKeys: access.sdkKeys,
    access: access.replica,
    metrics,
    ...(publisher ? { events: publisher } : {}),
    ...(eventStreams ? { eventStreams } : {}),
    ...(producer ? { ingest: createIngestSender(producer, { keySalt: ctx.config.EVENTS_KEY_SALT, metrics }) } : {}),
  });
  return listen('evaluation', served, ctx, async () => {
    // After the last request finished: send what is buffered, then let go of the configuration feed.
    await publisher?.stop();
    await replica.stop();
    await access.replica.stop();
  });
}
