import { Type } from 'typebox';
import { decodeCursor, encodeCursor } from '../../shared/http/schemas.ts';
import type { AnalyticsStore, CounterGroups, CountRow, EventRow, MetricRow } from './analytics-store.ts';
import { byMetricVariantMinute, countsOf, dimensionsOf, metricRowsOf, metricsOf } from './analytics-store.ts';

/** (environment, flag, minute) → batch id → dimension → value: a batch written again replaces itself. */
type Counters = Map<string, Map<string, Map<string, number>>>;

function keep(counters: Counters, batchId: string, groups: CounterGroups): void {
  for (const [id, group] of groups) {
    const byBatch = counters.get(id) ?? new Map<string, Map<string, number>>();
    byBatch.set(batchId, new Map(group.counts));
    counters.set(id, byBatch);
  }
}

/** Each minute's counters of an environment (and flag) between two times, summed over its batches. */
function* minutesOf(counters: Counters, environment: string, flagKey: string | undefined, from: number, to: number) {
  for (const [id, byBatch] of counters) {
    const [env = '', flag = '', minuteText = '0'] = id.split('\u0000');
    const minute = Number(minuteText);
    if (env !== environment || (flagKey && flag !== flagKey) || minute < from - (from % 60_000) || minute > to) continue;
    const sums = new Map<string, number>();
    for (const counts of byBatch.values()) for (const [dims, n] of counts) sums.set(dims, (sums.get(dims) ?? 0) + n);
    yield { flag, minute, sums };
  }
}

/** The same contract as the DynamoDB store, in memory, for unit tests: writes keyed by batch, so replays count once. */
export function createMemoryAnalyticsStore(): AnalyticsStore {
  const events = new Map<string, EventRow & { expiresAt: number }>();
  const counters: Counters = new Map();
  const metricCounters: Counters = new Map();

  return {
    async writeBatch(batch, retentionMs) {
      batch.events.forEach(([flagKey, environment, variant, reason, ruleId, keyHash, at], i) => {
        events.set(`${batch.batchId}#${i}`, { flagKey, environment, variant, reason, ruleId, keyHash, at, expiresAt: at + retentionMs });
      });
      keep(counters, batch.batchId, countsOf(batch));
      keep(metricCounters, batch.batchId, metricsOf(batch));
    },
    async compact() {
      return 0;
    },
    async countRows({ environment, flagKey, from, to }) {
      const rows: CountRow[] = [];
      for (const { flag, minute, sums } of minutesOf(counters, environment, flagKey, from, to))
        for (const [dims, count] of sums) {
          const [variant, reason, ruleId] = dimensionsOf(dims);
          rows.push({ flagKey: flag, environment, variant, reason, ruleId, minute, count });
        }
      return rows;
    },
    async metricRows({ environment, flagKey, metric, from, to }) {
      const rows: MetricRow[] = [];
      for (const { minute, sums } of minutesOf(metricCounters, environment, flagKey, from, to))
        rows.push(...metricRowsOf(sums, minute, metric));
      return rows.sort(byMetricVariantMinute);
    },
    async events({ environment, flagKey, flagKeys, variant, from, to, limit, cursor, now }) {
      const matching = [...events.entries()]
        .filter(
          ([, e]) =>
            e.environment === environment &&
            (!flagKey || e.flagKey === flagKey) &&
            (!flagKeys || flagKeys.has(e.flagKey)) &&
            (!variant || e.variant === variant) &&
            e.at >= from &&
            e.at <= to &&
            e.expiresAt > now,
        )
        .sort(([a, x], [b, y]) => y.at - x.at || (a < b ? 1 : -1));
      const after = cursor && decodeCursor(cursor, Type.String({ minLength: 1 }));
      const start = after ? matching.findIndex(([id]) => id === after) + 1 : 0;
      const page = matching.slice(start, start + limit);
      const last = page.at(-1)?.[0];
      return {
        items: page.map(([, { expiresAt: _expires, ...e }]) => e),
        nextCursor: start + limit < matching.length && last ? encodeCursor(last) : null,
      };
    },
  };
}
