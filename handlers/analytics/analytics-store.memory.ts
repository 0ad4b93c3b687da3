import { Type } from 'typebox';
import { decodeCursor, encodeCursor } from '../../shared/http/schemas.ts';
import type { AnalyticsStore, CountRow, EventRow } from './analytics-store.ts';
import { countsOf, dimensionsOf } from './analytics-store.ts';

/** The same contract as the DynamoDB store, in memory, for unit tests: writes keyed by batch, so replays count once. */
export function createMemoryAnalyticsStore(): AnalyticsStore {
  const events = new Map<string, EventRow & { expiresAt: number }>();
  // (environment, flag, minute) → batch id → dimension → count
  const counters = new Map<string, Map<string, Map<string, number>>>();

  return {
    async writeBatch(batch, retentionMs) {
      batch.events.forEach(([flagKey, environment, variant, reason, ruleId, keyHash, at], i) => {
        events.set(`${batch.batchId}#${i}`, { flagKey, environment, variant, reason, ruleId, keyHash, at, expiresAt: at + retentionMs });
      });
      for (const [id, group] of countsOf(batch)) {
        const byBatch = counters.get(id) ?? new Map<string, Map<string, number>>();
        byBatch.set(batch.batchId, new Map(group.counts));
        counters.set(id, byBatch);
      }
    },
    async compact() {
      return 0;
    },
    async countRows({ environment, flagKey, from, to }) {
      const rows: CountRow[] = [];
      for (const [id, byBatch] of counters) {
        const [env = '', flag = '', minuteText = '0'] = id.split('\u0000');
        const minute = Number(minuteText);
        if (env !== environment || (flagKey && flag !== flagKey) || minute < from - (from % 60_000) || minute > to) continue;
        const sums = new Map<string, number>();
        for (const counts of byBatch.values()) for (const [dims, n] of counts) sums.set(dims, (sums.get(dims) ?? 0) + n);
        for (const [dims, count] of sums) {
          const [variant, reason, ruleId] = dimensionsOf(dims);
          rows.push({ flagKey: flag, environment: env, variant, reason, ruleId, minute, count });
        }
      }
      return rows;
    },
    async events({ environment, flagKey, variant, from, to, limit, cursor, now }) {
      const matching = [...events.entries()]
        .filter(
          ([, e]) =>
            e.environment === environment &&
            (!flagKey || e.flagKey === flagKey) &&
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
