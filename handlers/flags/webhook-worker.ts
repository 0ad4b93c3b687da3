import type pg from 'pg';
import type { Kysely } from 'kysely';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Config } from '../../shared/config/config.ts';
import { createDatabase, createPool, pingDatabase } from '../../shared/db/database.ts';
import { createHttpServer } from '../../shared/http/server.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { startBackgroundJob } from '../../shared/runtime/background-job.ts';
import { listen, type StartedService } from '../../shared/runtime/service.ts';
import { flagsSchema } from './migrations/index.ts';
import { createWebhookDispatch } from './webhooks/webhook-dispatch.ts';
import type { WebhooksDatabase } from './webhooks/webhook-store.postgres.ts';
import { sendDelivery } from './webhooks/send-delivery.ts';
import { createTargetGuard, type TargetGuard } from './webhooks/target-guard.ts';

/** How long a worker holds a delivery it is sending: past the receiver's deadline, with room to record the answer. */
const leaseMarginMs = 30_000;

/**
 * The webhook worker: fans the flags database's new events (flag changes from the audit trail, the release
 * automation's events) out into one delivery per matching webhook, and sends them — signed, through the target
 * guard, retried with a doubling back-off, one flag's in order — from the deliveries table, which is the queue
 * (PostgreSQL holds it with the events it comes from, so nothing is lost between them, and KEDA scales the worker on
 * its due rows). It is the only workload that connects outside the cluster.
 */
export async function startWebhookWorker(deps: {
  config: Config;
  logger: Logger;
  port: number;
  pool?: pg.Pool;
  /** Where targets resolve; by default the configured policy over the system's resolver. */
  guard?: TargetGuard;
  /** How often to look for new events and due deliveries when there were none. */
  pollMs?: number;
}): Promise<StartedService> {
  const { config } = deps;
  const logger = deps.logger.child({ service: 'webhook-worker' });
  const pool = deps.pool ?? createPool(config, { logger });
  const db = createDatabase<WebhooksDatabase>(pool, flagsSchema);
  const dispatch = createWebhookDispatch(db, flagsSchema);
  const guard =
    deps.guard ?? createTargetGuard({ allowedNetworks: config.WEBHOOK_ALLOWED_NETWORKS, allowedHosts: config.WEBHOOK_ALLOWED_HOSTS });
  const retry = { baseMs: config.WEBHOOK_RETRY_BASE_MS, maxMs: config.WEBHOOK_RETRY_MAX_MS };
  const expiresInMs = config.WEBHOOK_GIVE_UP_AFTER_HOURS * 3_600_000;
  const pollMs = deps.pollMs ?? 500;

  const served = await createHttpServer({
    name: 'webhook-worker',
    title: 'ToggleMaster webhook worker',
    logger,
    bodyLimit: 1024,
    trustProxy: false,
    readiness: [{ name: 'postgres', critical: true, check: () => pingDatabase(db as Kysely<unknown>) }],
    routes: () => {},
  });
  const registers = [served.metrics];
  const attempts = new Counter({
    name: 'webhook_delivery_attempts_total',
    help: 'Attempts to send a webhook delivery, by outcome (delivered; retrying: failed, tried again later; failed: given up)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const fannedOut = new Counter({
    name: 'webhook_events_total',
    help: 'Events handed to webhooks (each becomes one delivery per matching webhook)',
    registers,
  });
  const duration = new Histogram({
    name: 'webhook_delivery_duration_seconds',
    help: 'From sending a delivery to its receiver’s answer (or the failure)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  });
  const lag = new Histogram({
    name: 'webhook_delivery_lag_seconds',
    help: 'From a delivery being queued to its being delivered (retries included: a receiver down shows here)',
    buckets: [0.1, 0.5, 1, 2, 5, 15, 60, 300, 3600, 86_400],
    registers,
  });
  const backlog = () => dispatch.backlog().catch(() => ({ pending: 0, due: 0, oldestDueSeconds: 0 }));
  new Gauge({
    name: 'webhook_deliveries_pending',
    help: 'Deliveries not delivered yet (waiting for a retry, or for an earlier one of their flag)',
    registers,
    async collect() {
      this.set((await backlog()).pending);
    },
  });
  new Gauge({
    name: 'webhook_deliveries_due_oldest_seconds',
    help: 'How long the delivery due longest has waited since it became due (grows when the workers fall behind)',
    registers,
    async collect() {
      this.set((await backlog()).oldestDueSeconds);
    },
  });

  const fanOut = startBackgroundJob({
    name: 'webhook-fan-out',
    logger,
    metrics: served.metrics,
    intervalMs: pollMs,
    retryMs: 1_000,
    maxBackoffMs: 30_000,
    run: async () => {
      const { events, deliveries } = await dispatch.fanOut(500, expiresInMs);
      fannedOut.inc(events);
      if (deliveries > 0) send.wake();
      return events === 500 ? 'at-once' : undefined;
    },
  });

  const send = startBackgroundJob({
    name: 'webhook-send',
    logger,
    metrics: served.metrics,
    intervalMs: pollMs,
    retryMs: 1_000,
    maxBackoffMs: 30_000,
    run: async () => {
      const claimed = await dispatch.claim(config.WEBHOOK_CONCURRENCY, config.WEBHOOK_TIMEOUT_MS + leaseMarginMs);
      await Promise.all(
        claimed.map(async (delivery) => {
          const result = await sendDelivery(delivery, {
            guard,
            timeoutMs: config.WEBHOOK_TIMEOUT_MS,
            userAgent: 'ToggleMaster-Webhooks/1',
          });
          duration.observe(result.durationMs / 1000);
          const outcome = await dispatch.record(delivery, result, retry);
          attempts.inc({ outcome });
          const fields = { deliveryId: delivery.id, webhookId: delivery.webhookId, eventId: delivery.eventId, attempt: delivery.attempts };
          if (outcome === 'delivered') {
            lag.observe((Date.now() - delivery.createdAt.getTime()) / 1000);
            logger.debug({ ...fields, statusCode: result.statusCode }, 'webhook delivered');
          } else logger.warn({ ...fields, statusCode: result.statusCode, reason: result.error, outcome }, 'webhook delivery failed');
        }),
      );
      return claimed.length === config.WEBHOOK_CONCURRENCY ? 'at-once' : undefined;
    },
  });

  const prune = startBackgroundJob({
    name: 'webhook-log-prune',
    logger,
    metrics: served.metrics,
    intervalMs: 3_600_000,
    retryMs: 60_000,
    run: async () => {
      const deleted = await dispatch.prune(new Date(Date.now() - config.WEBHOOK_LOG_RETENTION_DAYS * 86_400_000), 5_000);
      if (deleted > 0) logger.info({ deleted }, 'old webhook deliveries deleted from the log');
      return deleted === 5_000 ? 'at-once' : undefined;
    },
  });

  return listen('webhook-worker', served, { config, port: deps.port }, async () => {
    await fanOut.stop();
    await send.stop();
    await prune.stop();
    if (!deps.pool) await pool.end();
  });
}
