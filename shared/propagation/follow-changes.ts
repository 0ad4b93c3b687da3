import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../logging/logger.ts';
import { startBackgroundJob } from '../runtime/background-job.ts';
import { registeredMetric } from '../telemetry/registered-metric.ts';
import type { ConfigCache } from './config-cache.ts';
import type { PublishedChange } from './config-change.ts';

export interface FollowOptions {
  /** The `replica` label of the metrics (one process follows changes for several copies). */
  name: string;
  cache: ConfigCache;
  logger: Logger;
  metrics: Registry;
  /** Applies one change to the copy. A throw means the copy fell behind: `reload` then runs until it succeeds. */
  apply(change: PublishedChange): Promise<void>;
  /** Reads the whole copy again: after a break in the subscription (messages may have been lost), or to catch up. */
  reload(): Promise<void>;
  /** The first retry after the copy fell behind; retries double up to 2 s. */
  retryMs?: number;
}

export interface ChangeFollower {
  /** Runs a task in order with the changes: a reload that read the cache before a change must not finish after it. */
  serially(task: () => Promise<void>): Promise<void>;
  /** True from a failed change or reload until a reload succeeded: answers may be stale meanwhile. */
  readonly behind: boolean;
  /** How many changes and resubscriptions were heard: a load that overlapped one reads again. */
  readonly heard: number;
  stop(): Promise<void>;
}

function followerMetrics(registry: Registry) {
  const labelNames = ['replica'] as const;
  return {
    applied: registeredMetric(registry, Counter, {
      name: 'config_replica_changes_applied_total',
      help: 'Configuration changes applied to this copy',
      labelNames,
    }),
    lastApplied: registeredMetric(registry, Gauge, {
      name: 'config_replica_last_change_applied_timestamp_seconds',
      help: 'When this copy last applied a change',
      labelNames,
    }),
    propagation: registeredMetric(registry, Histogram, {
      name: 'config_change_propagation_seconds',
      help: 'From a change committing at its owner to this copy applying it (the promise: within 1 s)',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    }),
    behind: registeredMetric(registry, Gauge, {
      name: 'config_replica_behind',
      help: '1 while this copy could not apply a change and is catching up (answers may be stale)',
      labelNames,
    }),
  };
}

/**
 * A copy of the configuration cache kept current (the evaluation's compiled flags, every service's access): it
 * hears each published change and applies it, one at a time in the order heard; after a break in the subscription
 * it reloads everything; when a change cannot be applied (the cache is away) it falls behind and a background job
 * reloads until it succeeds. Its metrics show how long changes take to arrive and whether it is behind.
 */
export async function followChanges(options: FollowOptions): Promise<ChangeFollower> {
  const { name, logger } = options;
  const reload = () => options.reload();
  const metrics = followerMetrics(options.metrics);
  metrics.behind.set({ replica: name }, 0);
  let behind = false;
  let heard = 0;
  let updates: Promise<void> = Promise.resolve();

  const serially = (task: () => Promise<void>): Promise<void> => {
    updates = updates.then(task).catch(fellBehind);
    return updates;
  };

  function fellBehind(error: unknown): void {
    if (!behind)
      logger.warn({ err: error, replica: name }, 'a configuration change could not be applied; keeping the last good copy and catching up');
    behind = true;
    metrics.behind.set({ replica: name }, 1);
    catchUp.wake();
  }

  // Idle (a cheap check every 30 s) until the copy falls behind; then it reloads until a reload succeeds.
  const catchUp = startBackgroundJob({
    name: `${name}-replica-catch-up`,
    logger,
    metrics: options.metrics,
    intervalMs: 30_000,
    retryMs: options.retryMs ?? 250,
    maxBackoffMs: 2_000,
    run: async () => {
      if (!behind) return undefined;
      let failure: Error | undefined;
      updates = updates.then(reload).catch((error: unknown) => void (failure = error instanceof Error ? error : new Error(String(error))));
      await updates;
      if (failure) throw failure;
      behind = false;
      metrics.behind.set({ replica: name }, 0);
      logger.info({ replica: name }, 'configuration copy caught up');
      return undefined;
    },
  });

  function applied(change: PublishedChange): void {
    metrics.applied.inc({ replica: name });
    metrics.lastApplied.setToCurrentTime({ replica: name });
    const committed = change.at ? Date.parse(change.at) : Number.NaN;
    if (Number.isFinite(committed)) metrics.propagation.observe({ replica: name }, Math.max(0, Date.now() - committed) / 1000);
  }

  const unsubscribe = await options.cache.subscribe(
    (change) => {
      heard += 1;
      void serially(async () => {
        await options.apply(change);
        applied(change);
      });
    },
    () => {
      heard += 1;
      void serially(reload);
    },
  );

  return {
    serially,
    get behind() {
      return behind;
    },
    get heard() {
      return heard;
    },
    async stop() {
      await catchUp.stop();
      await unsubscribe();
    },
  };
}
