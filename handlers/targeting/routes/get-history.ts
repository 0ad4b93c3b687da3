import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { ProjectQuery } from '../../../shared/contracts/project-model.ts';
import { SegmentKey } from '../../../shared/contracts/targeting-model.ts';
import { TargetingAuditEntrySchema } from '../../../shared/contracts/targeting-api.ts';
import { Limit, Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';

export function getTargetingHistory(app: App, { service, guard, inProject }: TargetingRouteDeps): void {
  app.get(
    '/targeting/history',
    {
      onRequest: guard('viewer', inProject.history),
      schema: {
        tags: ['history'],
        summary: "Changes to the rules of a flag, or to a segment, or to a project's rules and segments, newest first",
        description:
          "With `flagKey` or `segmentKey`: that flag's or segment's (also once it is purged or deleted), for viewers of its project; `project` is then not read. Without either: every change in `project` (the default project without it).",
        security: bearerSecurity,
        querystring: Strict({
          project: ProjectQuery,
          flagKey: Type.Optional(FlagKey),
          segmentKey: Type.Optional(SegmentKey),
          limit: Limit,
          cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
        }),
        response: {
          200: Type.Object({ items: Type.Array(TargetingAuditEntrySchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      // Nothing was ever written about that flag or segment.
      if (request.project === undefined) return { items: [], nextCursor: null };
      const { flagKey, segmentKey, limit, cursor } = request.query;
      const page = await service.history({
        project: request.project,
        flagKey,
        segmentKey,
        limit,
        before: cursor === undefined ? undefined : Number(cursor),
      });
      return { items: page.items.map((e) => ({ ...e, at: e.at.toISOString() })), nextCursor: page.nextCursor };
    },
  );
}
