import { Type } from 'typebox';

/**
 * What the analytics service answers: the route schemas it validates and serializes with, and the OpenAPI
 * document's. The console takes its types from these (type-only), so the two cannot drift apart.
 */

export const granularities = ['minute', 'hour', 'day'] as const;
export type Granularity = (typeof granularities)[number];

/** GET /analytics/stats: evaluations per variant per bucket, every bucket present (zeros included), and the totals. */
export const StatsSchema = Type.Object({
  flagKey: Type.String(),
  environment: Type.String(),
  granularity: Type.String(),
  from: Type.String(),
  to: Type.String(),
  buckets: Type.Array(Type.Object({ start: Type.String(), counts: Type.Record(Type.String(), Type.Integer()), total: Type.Integer() })),
  totals: Type.Record(Type.String(), Type.Integer()),
  total: Type.Integer(),
});

/** One item of GET /analytics/events. */
/** One raw evaluation event of the sample GET /analytics/events answers (not every event: ADR 15). */
export const EvaluationEventSchema = Type.Object({
  flagKey: Type.String(),
  environment: Type.String(),
  variant: Type.Union([Type.String(), Type.Null()]),
  reason: Type.String(),
  ruleId: Type.Union([Type.String(), Type.Null()]),
  keyHash: Type.Union([Type.String(), Type.Null()], { description: 'Keyed hash of the targeting key (never the key itself)' }),
  at: Type.String(),
});

/** One row of GET /analytics/metrics: a metric's events in one variant in one minute, as exact sums. */
export const MetricAggregateSchema = Type.Object({
  metric: Type.String(),
  variant: Type.String(),
  minute: Type.String({ description: 'Start of the minute (UTC)' }),
  count: Type.Integer(),
  sum: Type.Number(),
  sumOfSquares: Type.Number({ description: 'With count and sum: the mean and the variance' }),
});

/** GET /analytics/metrics: a flag's metric events (tracking) per metric, variant and minute. */
export const MetricAggregatesSchema = Type.Object({
  flagKey: Type.String(),
  environment: Type.String(),
  from: Type.String(),
  to: Type.String(),
  items: Type.Array(MetricAggregateSchema, { description: 'Ordered by metric, variant and minute; minutes without events left out' }),
});
