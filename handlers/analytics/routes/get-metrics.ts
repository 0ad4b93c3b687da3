import { Type } from 'typebox';
import { MetricAggregatesSchema } from '../../../shared/contracts/analytics-api.ts';
import { MetricName } from '../../../shared/contracts/flags-api.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { Environment, FlagKey, Instant, ProjectParam } from '../analytics-schemas.ts';
import { mayReadFlag } from '../readable-flags.ts';
import { timeRange } from '../time-range.ts';
import type { AnalyticsRouteDeps } from './route-deps.ts';

export function getMetrics(app: App, { store, viewerOf, now }: AnalyticsRouteDeps): void {
  app.get(
    '/analytics/metrics',
    {
      // A viewer of the flag's project.
      onRequest: viewerOf('query'),
      schema: {
        tags: ['analytics'],
        summary: 'Exact sums of a flag’s metric events (tracking) per metric, variant and minute: count, sum, sum of squares',
        security: bearerSecurity,
        querystring: Strict({
          flagKey: FlagKey,
          environment: Environment,
          project: ProjectParam,
          metric: Type.Optional(MetricName),
          from: Type.Optional(Instant),
          to: Type.Optional(Instant),
        }),
        response: { 200: MetricAggregatesSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { flagKey, environment, metric, project } = request.query;
      // Per minute, as the counts: up to a day (a release plan's guardrails are judged over its whole run).
      const { from, to } = timeRange(request.query, 'minute', now(), 3_600_000);
      // A flag that is not there (or not of the project named) has no metric events to show.
      const rows = mayReadFlag(request, project) ? await store.metricRows({ environment, flagKey, metric, from, to }) : [];
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
