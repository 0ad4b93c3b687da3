import { Type } from 'typebox';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { groupFields, queryOf } from '../aggregate.ts';
import type { AnalyticsRouteDeps } from './route-deps.ts';
import { Environment, FlagKey, Instant } from '../analytics-schemas.ts';
import { timeRange } from '../time-range.ts';

export function queryAnalytics(app: App, { store, guard, now }: AnalyticsRouteDeps): void {
  app.post(
    '/analytics/query',
    {
      onRequest: guard('viewer'),
      schema: {
        tags: ['analytics'],
        summary: 'Exact evaluation counts filtered by flag, variant, reason, rule and time, grouped by any of them',
        security: bearerSecurity,
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
      const rows = await store.countRows({ environment, flagKey, from, to });
      return queryOf(rows, from, to, { variant, reason, ruleId }, groupBy);
    },
  );
}
