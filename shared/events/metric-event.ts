import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { PoisonMessageError } from '../queue/queue.ts';

/**
 * Metric events (OpenFeature tracking: a name, a numeric value, the flag and variant the user was served), summed per
 * flag, environment, variant, metric and minute where they arrive: count, sum and sum of squares say everything a
 * guardrail needs (mean and variance) and add up exactly, so a message carries sums, not events.
 */
export type MetricAggregate = [
  flagKey: string,
  environment: string,
  variant: string,
  metric: string,
  minute: number,
  count: number,
  sum: number,
  sumOfSquares: number,
];

export const metricMessageSchemaName = 'togglemaster.metric-events/1';

const Text = Type.String({ minLength: 1, maxLength: 256 });
const Finite = Type.Number({ minimum: -Number.MAX_VALUE, maximum: Number.MAX_VALUE });

/** The message body (before compression): the sums of one ingestion request, keyed by the request's batch id. */
export const MetricMessageSchema = Type.Object(
  {
    schema: Type.Literal(metricMessageSchemaName),
    batchId: Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' }),
    metrics: Type.Array(
      Type.Tuple([Text, Text, Text, Text, Type.Integer({ minimum: 0, multipleOf: 60_000 }), Type.Integer({ minimum: 1 }), Finite, Finite]),
      { minItems: 1, maxItems: 10_000 },
    ),
  },
  { additionalProperties: false },
);
export type MetricMessage = Static<typeof MetricMessageSchema>;
const checkMetricMessage = Compile(MetricMessageSchema);

/** Sums events into aggregates per flag, environment, variant, metric and minute. */
export function aggregateMetrics(
  events: Iterable<{ flagKey: string; environment: string; variant: string; metric: string; at: number; value: number }>,
): MetricAggregate[] {
  const sums = new Map<string, MetricAggregate>();
  for (const { flagKey, environment, variant, metric, at, value } of events) {
    const minute = at - (at % 60_000);
    const id = JSON.stringify([flagKey, environment, variant, metric, minute]);
    const row = sums.get(id);
    if (row) {
      row[5] += 1;
      row[6] += value;
      row[7] += value * value;
    } else sums.set(id, [flagKey, environment, variant, metric, minute, 1, value, value * value]);
  }
  return [...sums.values()];
}

/** Checks a parsed message of this schema; one that can never be processed is a PoisonMessageError. */
export function checkMetricMessageBody(parsed: unknown): MetricMessage {
  if (checkMetricMessage.Check(parsed)) return parsed;
  const first = checkMetricMessage.Errors(parsed)[0];
  throw new PoisonMessageError(
    `the batch does not match ${metricMessageSchemaName}: ${first ? `${first.instancePath} ${first.message}` : 'invalid'}`,
  );
}
