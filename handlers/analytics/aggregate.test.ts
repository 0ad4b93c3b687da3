import { describe, expect, it } from 'vitest';
import { queryOf, statsOf } from './aggregate.ts';
import type { CountRow } from './analytics-store.ts';

const t0 = Date.UTC(2026, 10, 24, 10, 0);
const row = (minuteOffset: number, variant: string | null, count: number, extra: Partial<CountRow> = {}): CountRow => ({
  flagKey: 'f',
  environment: 'production',
  variant,
  reason: 'SPLIT',
  ruleId: null,
  minute: t0 + minuteOffset * 60_000,
  count,
  ...extra,
});

describe('analytics aggregation', () => {
  it('fills every bucket of the range, zeros included, and totals per variant', () => {
    const stats = statsOf([row(0, 'on', 3), row(0, 'off', 1), row(2, 'on', 5)], t0, t0 + 4 * 60_000, 'minute');
    expect(stats.buckets.map((b) => b.total)).toEqual([4, 0, 5, 0, 0]);
    expect(stats.totals).toEqual({ on: 8, off: 1 });
    expect(stats.total).toBe(9);
  });

  it('rolls minutes into hours and days', () => {
    const rows = [row(0, 'on', 1), row(59, 'on', 2), row(60, 'on', 4), row(24 * 60, 'on', 8)];
    expect(statsOf(rows, t0, t0 + 3 * 3_600_000, 'hour').buckets.map((b) => b.total)).toEqual([3, 4, 0, 0]);
    const days = statsOf(rows, t0, t0 + 2 * 86_400_000, 'day');
    expect(days.buckets.map((b) => b.total)).toEqual([7, 8, 0]);
  });

  it('filters and groups by any dimension, largest groups first', () => {
    const rows = [
      row(0, 'on', 3, { reason: 'TARGETING_MATCH', ruleId: 'r1' }),
      row(1, 'on', 2, { reason: 'TARGETING_MATCH', ruleId: 'r2' }),
      row(1, 'off', 7, { reason: 'DEFAULT' }),
    ];
    expect(queryOf(rows, t0, t0 + 3_600_000, {}, ['reason'])).toEqual({
      groups: [
        { reason: 'DEFAULT', count: 7 },
        { reason: 'TARGETING_MATCH', count: 5 },
      ],
      total: 12,
    });
    expect(queryOf(rows, t0, t0 + 3_600_000, { reason: 'TARGETING_MATCH' }, ['ruleId', 'variant']).groups).toEqual([
      { ruleId: 'r1', variant: 'on', count: 3 },
      { ruleId: 'r2', variant: 'on', count: 2 },
    ]);
    expect(queryOf(rows, t0, t0 + 3_600_000, {}, ['hour']).groups).toEqual([{ hour: new Date(t0).toISOString(), count: 12 }]);
  });
});
