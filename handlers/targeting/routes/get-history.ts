import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { SegmentKey } from '../../../shared/contracts/targeting-model.ts';
import { TargetingAuditEntrySchema } from '../../../shared/contracts/targeting-api.ts';
import { Limit, Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';

export function getTargetingHistory(app: App, { service, guard }: TargetingRouteDeps): void {
  app.get(
    '/targeting/history',
    {
      onRequest: guard('viewer'),
      schema: {
        tags: ['history'],
        summary: 'Changes to the rules of a flag, or to a segment, newest first',
        security: bearerSecurity,
        querystring: Strict({
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
      const { flagKey, segmentKey, limit, cursor } = request.query;
      const page = await service.history({ flagKey, segmentKey, limit, before: cursor === undefined ? undefined : Number(cursor) });
      return { items: page.items.map((e) => ({ ...e, at: e.at.toISOString() })), nextCursor: page.nextCursor };
    },
  );
}
