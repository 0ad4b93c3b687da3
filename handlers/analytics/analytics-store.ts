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

export interface EventQuery {
  environment: string;
  flagKey?: string | undefined;
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
}

/** The counts a batch adds, per flag, environment and minute: the unit the stores write idempotently. */
export function countsOf(
  batch: EventBatch,
): Map<string, { flagKey: string; environment: string; minute: number; counts: Map<string, number> }> {
  const groups = new Map<string, { flagKey: string; environment: string; minute: number; counts: Map<string, number> }>();
  const add = (
    flagKey: string,
    environment: string,
    variant: string | null,
    reason: string,
    ruleId: string | null,
    minute: number,
    n: number,
  ) => {
    const id = `${environment}\u0000${flagKey}\u0000${minute}`;
    let group = groups.get(id);
    if (!group) groups.set(id, (group = { flagKey, environment, minute, counts: new Map() }));
    const dims = dimensionKey(variant, reason, ruleId);
    group.counts.set(dims, (group.counts.get(dims) ?? 0) + n);
  };
  for (const [flagKey, environment, variant, reason, ruleId, , at] of batch.events)
    add(flagKey, environment, variant, reason, ruleId, at - (at % 60_000), 1);
  for (const [flagKey, environment, variant, reason, ruleId, minute, n] of batch.counts)
    add(flagKey, environment, variant, reason, ruleId, minute, n);
  return groups;
}

/** Variant, reason and rule as one map key (and back). */
export const dimensionKey = (variant: string | null, reason: string, ruleId: string | null) => JSON.stringify([variant, reason, ruleId]);
export const dimensionsOf = (key: string) => JSON.parse(key) as [string | null, string, string | null];
