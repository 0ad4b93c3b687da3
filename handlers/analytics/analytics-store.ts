import type { EventBatch } from '../../shared/events/evaluation-event.ts';

/** Exact count of evaluations with the same flag, environment, variant, reason and rule in one minute. */
export interface CountRow {
  flagKey: string;
  environment: string;
  variant: string | null;
  reason: string;
  ruleId: string | null;
  /** Start of the minute, epoch ms (UTC). */
  minute: number;
  count: number;
}

export interface EventRow {
  flagKey: string;
  environment: string;
  variant: string | null;
  reason: string;
  ruleId: string | null;
  keyHash: string | null;
  at: number;
}

/** Exact sums of a metric's events served one variant of a flag in one minute. */
export interface MetricRow {
  metric: string;
  variant: string;
  /** Start of the minute, epoch ms (UTC). */
  minute: number;
  count: number;
  sum: number;
  sumOfSquares: number;
}

export interface MetricQuery {
  environment: string;
  flagKey: string;
  /** One metric, or all of the flag's. */
  metric?: string | undefined;
  from: number;
  to: number;
}

export interface EventQuery {
  environment: string;
  flagKey?: string | undefined;
  /** Without `flagKey`: only the events of these flags (a project's); pages are filled with theirs. */
  flagKeys?: ReadonlySet<string> | undefined;
  variant?: string | undefined;
  from: number;
  to: number;
  limit: number;
  cursor?: string | undefined;
  /** Events whose retention ended before now are never returned, whether or not the store removed them yet. */
  now: number;
}

/**
 * Where the analytics worker writes and the analytics service reads. Every write is keyed by the batch it came
 * in, so writing a batch again (a redelivery, or a retry after a half-done attempt) changes nothing.
 */
export interface AnalyticsStore {
  writeBatch(batch: EventBatch, retentionMs: number): Promise<void>;
  /** Folds per-batch counters of closed minutes into one total per minute; returns how many minutes it folded. */
  compact(now: number): Promise<number>;
  countRows(query: { environment: string; flagKey?: string | undefined; from: number; to: number }): Promise<CountRow[]>;
  events(query: EventQuery): Promise<{ items: EventRow[]; nextCursor: string | null }>;
  metricRows(query: MetricQuery): Promise<MetricRow[]>;
}

/** A batch's counters per flag, environment and minute: a dimension (JSON) → its sum. */
export type CounterGroups = Map<string, { flagKey: string; environment: string; minute: number; counts: Map<string, number> }>;

function addTo(groups: CounterGroups, flagKey: string, environment: string, minute: number, dims: string, n: number): void {
  const id = `${environment}\u0000${flagKey}\u0000${minute}`;
  let group = groups.get(id);
  if (!group) groups.set(id, (group = { flagKey, environment, minute, counts: new Map() }));
  group.counts.set(dims, (group.counts.get(dims) ?? 0) + n);
}

/** The counts a batch adds, per flag, environment and minute: the unit the stores write idempotently. */
export function countsOf(batch: EventBatch): CounterGroups {
  const groups: CounterGroups = new Map();
  for (const [flagKey, environment, variant, reason, ruleId, , at] of batch.events)
    addTo(groups, flagKey, environment, at - (at % 60_000), dimensionKey(variant, reason, ruleId), 1);
  for (const [flagKey, environment, variant, reason, ruleId, minute, n] of batch.counts)
    addTo(groups, flagKey, environment, minute, dimensionKey(variant, reason, ruleId), n);
  return groups;
}

const metricStats = ['count', 'sum', 'sumOfSquares'] as const;

/**
 * The metric sums a batch adds, per flag, environment and minute — the same unit as the counts, so they are written,
 * compacted and read the same idempotent way: each (metric, variant) has three counters.
 */
export function metricsOf(batch: EventBatch): CounterGroups {
  const groups: CounterGroups = new Map();
  for (const [flagKey, environment, variant, metric, minute, count, sum, sumOfSquares] of batch.metrics ?? []) {
    const values = { count, sum, sumOfSquares };
    for (const stat of metricStats) addTo(groups, flagKey, environment, minute, JSON.stringify([metric, variant, stat]), values[stat]);
  }
  return groups;
}

/** Metric rows from one minute's summed counters (the keys metricsOf wrote). */
export function metricRowsOf(sums: Map<string, number>, minute: number, metric?: string): MetricRow[] {
  const rows = new Map<string, MetricRow>();
  for (const [dims, value] of sums) {
    const [name, variant, stat] = JSON.parse(dims) as [string, string, (typeof metricStats)[number]];
    if (metric !== undefined && name !== metric) continue;
    const id = `${name}\u0000${variant}`;
    let row = rows.get(id);
    if (!row) rows.set(id, (row = { metric: name, variant, minute, count: 0, sum: 0, sumOfSquares: 0 }));
    row[stat] = value;
  }
  return [...rows.values()];
}

/** Metric rows in the order the API answers them: by metric, variant, minute. */
export const byMetricVariantMinute = (a: MetricRow, b: MetricRow) =>
  a.metric.localeCompare(b.metric) || a.variant.localeCompare(b.variant) || a.minute - b.minute;

/** Variant, reason and rule as one map key (and back). */
export const dimensionKey = (variant: string | null, reason: string, ruleId: string | null) => JSON.stringify([variant, reason, ruleId]);
export const dimensionsOf = (key: string) => JSON.parse(key) as [string | null, string, string | null];
