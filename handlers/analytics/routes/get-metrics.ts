import { Type } from 'typebox';
import { MetricAggregatesSchema } from '../../../shared/contracts/analytics-api.ts';
import { MetricName } from '../../../shared/contracts/flags-api.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { Environment, FlagKey, Instant } from '../analytics-schemas.ts';
import { timeRange } from '../time-range.ts';
import type { AnalyticsRouteDeps } from './route-deps.ts';

export function getMetrics(app: App, { store, guard, now }: AnalyticsRouteDeps): void {
  app.get(
    '/analytics/metrics',
    {
      onRequest: guard('viewer'),
      schema: {
        tags: ['analytics'],
        summary: 'Exact sums of a flag’s metric events (tracking) per metric, variant and minute: count, sum, sum of squares',
        security: bearerSecurity,
        querystring: Strict({
          flagKey: FlagKey,
          environment: Environment,
          metric: Type.Optional(MetricName),
          from: Type.Optional(Instant),
          to: Type.Optional(Instant),
        }),
        response: { 200: MetricAggregatesSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { flagKey, environment, metric } = request.query;
      // Per minute, as the counts: up to a day (a release plan's guardrails are judged over its whole run).
      const { from, to } = timeRange(request.query, 'minute', now(), 3_600_000);
      const rows = await store.metricRows({ environment, flagKey, metric, from, to });
      return {
        flagKey,
        environment,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        items: rows.map((row) => ({ ...row, minute: new Date(row.minute).toISOString() })),
      };
    },
  );
}
