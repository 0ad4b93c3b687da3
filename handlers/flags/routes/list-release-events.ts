import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Limit, Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { ReleaseEventSchema, releaseEventView } from '../release-events.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function listReleaseEvents(app: App, { releasePlans, guard, inProject }: FlagRouteDeps): void {
  app.get(
    '/flags/:key/release-events',
    {
      onRequest: guard('viewer', inProject.flag),
      schema: {
        tags: ['release plans'],
        summary: 'What the release automation did on a flag — schedules run, milestones, pauses, rollbacks and why — newest first',
        security: bearerSecurity,
        params: Strict({ key: FlagKey }),
        querystring: Strict({ limit: Limit, cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })) }),
        response: {
          200: Type.Object({ items: Type.Array(ReleaseEventSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await releasePlans.events(request.params.key, { limit, before: cursor === undefined ? undefined : Number(cursor) });
      return { items: page.items.map(releaseEventView), nextCursor: page.nextCursor };
    },
  );
}
