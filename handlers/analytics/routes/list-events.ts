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
          'A sample of recent evaluation events of a flag, or of the flags of a project (?project=, the default project when absent), newest first, a page at a time (never past their retention)',
        // Not every event: the counts (stats, query) are exact, the raw events are sampled (ADR 15).
        description:
          'Raw evaluation events are kept as a **sample**, not one by one: each message of evaluations stores, beside its exact counts, as many of its raw events as fit in the write unit it pays anyway — about 30 to 100 per message (fewer when its users are many and distinct), at most 100 per stored item, spread evenly over the message. Events are listed newest first by when their message arrived; an event whose message arrived more than 10 minutes after it is counted but not listed. For exact numbers use `/analytics/stats` or `/analytics/query`.',
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
