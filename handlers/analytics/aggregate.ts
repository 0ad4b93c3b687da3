import type { Granularity } from '../../shared/contracts/analytics-api.ts';
import type { CountRow } from './analytics-store.ts';

const sizeMs: Record<Granularity, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** The longest range each granularity answers (a chart of more buckets than this is no chart). */
export const maxRangeMs: Record<Granularity, number> = { minute: 24 * 3_600_000, hour: 31 * 86_400_000, day: 400 * 86_400_000 };

export const bucketOf = (at: number, granularity: Granularity) => at - (at % sizeMs[granularity]);

export interface StatsBucket {
  start: string;
  counts: Record<string, number>;
  total: number;
}

/** Evaluations per variant per bucket over [from, to], every bucket present (zeros included), and the totals. */
export function statsOf(rows: CountRow[], from: number, to: number, granularity: Granularity) {
  const buckets = new Map<number, StatsBucket>();
  for (let at = bucketOf(from, granularity); at <= to; at += sizeMs[granularity])
    buckets.set(at, { start: new Date(at).toISOString(), counts: {}, total: 0 });
  const totals: Record<string, number> = {};
  let total = 0;
  for (const row of rows) {
    if (row.minute + 60_000 <= from || row.minute > to) continue;
    const bucket = buckets.get(bucketOf(row.minute, granularity));
    if (!bucket) continue;
    const variant = row.variant ?? '(error)';
    bucket.counts[variant] = (bucket.counts[variant] ?? 0) + row.count;
    bucket.total += row.count;
    totals[variant] = (totals[variant] ?? 0) + row.count;
    total += row.count;
  }
  return { buckets: [...buckets.values()], totals, total };
}

export const groupFields = ['flagKey', 'environment', 'variant', 'reason', 'ruleId', 'minute', 'hour', 'day'] as const;
export type GroupField = (typeof groupFields)[number];

export interface QueryFilters {
  variant?: string | undefined;
  reason?: string | undefined;
  ruleId?: string | undefined;
}

/** Exact counts filtered and grouped by any of the dimensions (and time buckets), largest first. */
export function queryOf(rows: CountRow[], from: number, to: number, filters: QueryFilters, groupBy: readonly GroupField[]) {
  const groups = new Map<string, { key: Record<string, string | null>; count: number }>();
  let total = 0;
  for (const row of rows) {
    if (row.minute + 60_000 <= from || row.minute > to) continue;
    if (filters.variant !== undefined && row.variant !== filters.variant) continue;
    if (filters.reason !== undefined && row.reason !== filters.reason) continue;
    if (filters.ruleId !== undefined && row.ruleId !== filters.ruleId) continue;
    const key: Record<string, string | null> = {};
    for (const field of groupBy) {
      if (field === 'minute' || field === 'hour' || field === 'day') key[field] = new Date(bucketOf(row.minute, field)).toISOString();
      else key[field] = row[field];
    }
    const id = JSON.stringify(key);
    const group = groups.get(id) ?? { key, count: 0 };
    group.count += row.count;
    groups.set(id, group);
    total += row.count;
  }
  return { groups: [...groups.values()].sort((a, b) => b.count - a.count).map((g) => ({ ...g.key, count: g.count })), total };
}
