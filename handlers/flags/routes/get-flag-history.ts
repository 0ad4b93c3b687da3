import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { FlagAuditEntrySchema } from '../../../shared/contracts/flags-api.ts';
import { Limit, Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function getFlagHistory(app: App, { service, guard, inProject }: FlagRouteDeps): void {
  app.get(
    '/flags/:key/history',
    {
      onRequest: guard('viewer', inProject.flag),
      schema: {
        tags: ['flags'],
        summary: 'Who changed what and when, newest first, with the before and after of each change',
        security: bearerSecurity,
        params: Strict({ key: FlagKey }),
        querystring: Strict({ limit: Limit, cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })) }),
        response: {
          200: Type.Object({ items: Type.Array(FlagAuditEntrySchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await service.history(request.params.key, { limit, before: cursor === undefined ? undefined : Number(cursor) });
      return { items: page.items.map((e) => ({ ...e, at: e.at.toISOString() })), nextCursor: page.nextCursor };
    },
  );
}
