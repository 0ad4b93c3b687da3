import { Type } from 'typebox';
import { Limit, Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { EvaluationEventSchema } from '../../../shared/contracts/analytics-api.ts';
import type { AnalyticsRouteDeps } from './route-deps.ts';
import { Environment, FlagKey, Instant } from '../analytics-schemas.ts';
import { timeRange } from '../time-range.ts';

export function listEvents(app: App, { store, guard, now }: AnalyticsRouteDeps): void {
  app.get(
    '/analytics/events',
    {
      onRequest: guard('viewer'),
      schema: {
        tags: ['analytics'],
        summary: 'Recent evaluation events, newest first, a page at a time (never past their retention)',
        security: bearerSecurity,
        querystring: Strict({
          environment: Environment,
          flagKey: Type.Optional(FlagKey),
          variant: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          from: Type.Optional(Instant),
          to: Type.Optional(Instant),
          limit: Limit,
          cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1000, pattern: '^[A-Za-z0-9_-]+$' })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(EvaluationEventSchema),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const at = now();
      const { from, to } = timeRange(request.query, 'hour', at, 86_400_000);
      const page = await store.events({ ...request.query, from, to, now: at });
      return { items: page.items.map((e) => ({ ...e, at: new Date(e.at).toISOString() })), nextCursor: page.nextCursor };
    },
  );
}
