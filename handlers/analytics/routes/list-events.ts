import { Type } from 'typebox';
import { Limit, Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { EvaluationEventSchema } from '../../../shared/contracts/analytics-api.ts';
import type { AnalyticsRouteDeps } from './route-deps.ts';
import { Environment, FlagKey, Instant, ProjectParam } from '../analytics-schemas.ts';
import { flagKeysOfRequest, mayReadFlag } from '../readable-flags.ts';
import { timeRange } from '../time-range.ts';

export function listEvents(app: App, { store, viewerOf, projects, now }: AnalyticsRouteDeps): void {
  app.get(
    '/analytics/events',
    {
      // A viewer of the flag's project, or of the project of ?project= (its flags' events).
      onRequest: viewerOf('query'),
      schema: {
        tags: ['analytics'],
        summary:
          'Recent evaluation events of a flag, or of the flags of a project (?project=, the default project when absent), newest first, a page at a time (never past their retention)',
        security: bearerSecurity,
        querystring: Strict({
          environment: Environment,
          flagKey: Type.Optional(FlagKey),
          project: ProjectParam,
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
      const { project, ...query } = request.query;
      const { from, to } = timeRange(query, 'hour', at, 86_400_000);
      if (query.flagKey !== undefined && !mayReadFlag(request, project)) return { items: [], nextCursor: null };
      const flagKeys = query.flagKey === undefined ? await flagKeysOfRequest(request, projects) : undefined;
      const page = await store.events({ ...query, flagKeys, from, to, now: at });
      return { items: page.items.map((e) => ({ ...e, at: new Date(e.at).toISOString() })), nextCursor: page.nextCursor };
    },
  );
}
