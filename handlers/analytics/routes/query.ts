import { Type } from 'typebox';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { groupFields, queryOf } from '../aggregate.ts';
import type { AnalyticsRouteDeps } from './route-deps.ts';
import { Environment, FlagKey, Instant, ProjectParam } from '../analytics-schemas.ts';
import { flagKeysOfRequest, mayReadFlag } from '../readable-flags.ts';
import { timeRange } from '../time-range.ts';
import type { CountRow } from '../analytics-store.ts';

export function queryAnalytics(app: App, { store, viewerOf, projects, now }: AnalyticsRouteDeps): void {
  app.post(
    '/analytics/query',
    {
      // A viewer of the flag's project (named in the body: checked once it is read), or of ?project=.
      preValidation: viewerOf('body'),
      schema: {
        tags: ['analytics'],
        summary:
          'Exact evaluation counts of a flag, or of the flags of a project (?project=, the default project when absent), filtered by variant, reason, rule and time, grouped by any of them',
        security: bearerSecurity,
        querystring: Strict({ project: ProjectParam }),
        body: Strict({
          environment: Environment,
          flagKey: Type.Optional(FlagKey),
          variant: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          reason: Type.Optional(Type.Enum(['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DEFAULT', 'DISABLED', 'ERROR'])),
          ruleId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          from: Type.Optional(Instant),
          to: Type.Optional(Instant),
          groupBy: Type.Optional(Type.Array(Type.Enum([...groupFields]), { maxItems: 4, uniqueItems: true })),
        }),
        response: {
          200: Type.Object({
            groups: Type.Array(Type.Record(Type.String(), Type.Union([Type.String(), Type.Integer(), Type.Null()]))),
            total: Type.Integer(),
          }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const { environment, flagKey, variant, reason, ruleId, groupBy = [] } = request.body;
      // Grouping by minute allows a day; anything else up to 31 days.
      const { from, to } = timeRange(request.body, groupBy.includes('minute') ? 'minute' : 'hour', now(), 86_400_000);
      let rows: CountRow[] = [];
      if (flagKey !== undefined) {
        if (mayReadFlag(request, request.query.project)) rows = await store.countRows({ environment, flagKey, from, to });
      } else {
        const flagKeys = await flagKeysOfRequest(request, projects);
        rows = (await store.countRows({ environment, from, to })).filter((row) => flagKeys.has(row.flagKey));
      }
      return queryOf(rows, from, to, { variant, reason, ruleId }, groupBy);
    },
  );
}
