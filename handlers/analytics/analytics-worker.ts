import { Counter } from 'prom-client';
import type { Config } from '../../shared/config/config.ts';
import { createDynamoClient } from '../../shared/dynamo/client.ts';
import { createHttpServer } from '../../shared/http/server.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import type { QueueConsumer } from '../../shared/queue/queue.ts';
import { createEventConsumer } from '../../shared/queue/transport.ts';
import { runQueueWorker } from '../../shared/queue/worker.ts';
import { startBackgroundJob } from '../../shared/runtime/background-job.ts';
import { listen, type StartedService } from '../../shared/runtime/service.ts';
import type { AnalyticsStore } from './analytics-store.ts';
import { createAnalyticsStore, tableReadiness } from './analytics-app.ts';
import { createEventIngest } from './event-ingest.ts';

const compactEveryMs = 60_000;

/**
 * The analytics ingest worker: every message is a batch of evaluation events, written as raw events (with their
 * expiry) and as per-batch counters, all keyed by the batch so a redelivery changes nothing. It also folds closed
 * minutes' counters into totals. Serves /healthz, /readyz and /metrics on its port for probes and Prometheus.
 */
export async function startAnalyticsWorker(deps: {
  config: Config;
  logger: Logger;
  port: number;
  store?: AnalyticsStore;
  consumer?: QueueConsumer;
}): Promise<StartedService> {
  const { config } = deps;
  const logger = deps.logger.child({ service: 'analytics-worker' });
  const client = createDynamoClient(config);
  const store = deps.store ?? createAnalyticsStore({ client, table: config.DYNAMODB_TABLE });
  const retentionMs = config.EVENTS_RETENTION_DAYS * 86_400_000;
  const served = await createHttpServer({
    name: 'analytics-worker',
    title: 'ToggleMaster analytics worker',
    logger,
    bodyLimit: 1024,
    trustProxy: false,
    readiness: deps.store ? [] : [tableReadiness(client, config.DYNAMODB_TABLE)],
    routes: () => {},
  });
  const worker = runQueueWorker({
    name: 'analytics-ingest',
    consumer: deps.consumer ?? (await createEventConsumer(config, logger)),
    logger,
    metrics: served.metrics,
    process: createEventIngest({ store, retentionMs, metrics: served.metrics }),
  });
  const compactedMinutes = new Counter({
    name: 'analytics_minutes_compacted_total',
    help: "Closed minutes whose batches' counters were folded into totals",
    registers: [served.metrics],
  });
  const compactor = startBackgroundJob({
    name: 'analytics-compaction',
    logger,
    metrics: served.metrics,
    intervalMs: compactEveryMs,
    retryMs: 5_000,
    maxBackoffMs: compactEveryMs,
    run: async () => {
      compactedMinutes.inc(await store.compact(Date.now()));
      return undefined;
    },
  });
  return listen('analytics-worker', served, { config, port: deps.port }, async () => {
    // Stop receiving first, finish the batch in hand, then close: KEDA scales the worker to zero this way.
    await worker.stop();
    await compactor.stop();
    client.destroy();
  });
}
