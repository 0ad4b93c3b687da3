import { Type } from 'typebox';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { granularities, StatsSchema } from '../../../shared/contracts/analytics-api.ts';
import { statsOf } from '../aggregate.ts';
import type { AnalyticsRouteDeps } from './route-deps.ts';
import { Environment, FlagKey, Instant, ProjectParam } from '../analytics-schemas.ts';
import { mayReadFlag } from '../readable-flags.ts';
import { timeRange } from '../time-range.ts';

const defaultSpan = { minute: 3_600_000, hour: 86_400_000, day: 30 * 86_400_000 } as const;

export function getStats(app: App, { store, viewerOf, now }: AnalyticsRouteDeps): void {
  app.get(
    '/analytics/stats',
    {
      // A viewer of the flag's project.
      onRequest: viewerOf('query'),
      schema: {
        tags: ['analytics'],
        summary: 'Exact evaluations of a flag per variant per minute, hour or day, and the totals',
        security: bearerSecurity,
        querystring: Strict({
          flagKey: FlagKey,
          environment: Environment,
          project: ProjectParam,
          from: Type.Optional(Instant),
          to: Type.Optional(Instant),
          granularity: Type.Enum([...granularities], { default: 'minute' }),
        }),
        response: { 200: StatsSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { flagKey, environment, granularity, project } = request.query;
      const { from, to } = timeRange(request.query, granularity, now(), defaultSpan[granularity]);
      // A flag that is not there (or not of the project named) has no counts to show.
      const rows = mayReadFlag(request, project) ? await store.countRows({ environment, flagKey, from, to }) : [];
      return {
        flagKey,
        environment,
        granularity,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        ...statsOf(rows, from, to, granularity),
      };
    },
  );
}
