import { Histogram, type Registry } from 'prom-client';
import { decodeBatch } from '../../shared/events/evaluation-event.ts';
import type { QueueMessage } from '../../shared/queue/queue.ts';
import type { AnalyticsStore } from './analytics-store.ts';

/**
 * What the analytics worker does with one message: decode it, write it (idempotently, keyed by its batch), and
 * observe how old its oldest evaluation is once written — the delay before it shows in the counts, which
 * `analytics_event_lag_seconds` makes visible (the promise is ≤ 5 s; docs/analytics.md).
 */
export function createEventIngest(options: { store: AnalyticsStore; retentionMs: number; metrics: Registry; now?: () => number }) {
  const now = options.now ?? Date.now;
  const lag = new Histogram({
    name: 'analytics_event_lag_seconds',
    help: "Age of a message's oldest evaluation when its counts were written (evaluation → visible in the counts)",
    buckets: [0.5, 1, 2, 3, 4, 5, 6, 8, 10, 30, 60, 300],
    registers: [options.metrics],
  });
  return async (message: QueueMessage): Promise<void> => {
    const batch = await decodeBatch(message.body);
    await options.store.writeBatch(batch, options.retentionMs);
    let oldest = Infinity;
    for (const event of batch.events) oldest = Math.min(oldest, event[6]);
    // Counts of events dropped for room (after an outage) carry only their minute: not a delay of the path.
    if (oldest !== Infinity) lag.observe(Math.max(0, now() - oldest) / 1000);
  };
}
