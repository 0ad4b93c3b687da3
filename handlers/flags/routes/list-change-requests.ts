import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Limit, Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ChangeRequestSchema } from '../../../shared/contracts/flags-api.ts';
import { changeRequestView } from '../change-requests/change-request.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function listChangeRequests(app: App, { changeRequests, guard }: FlagRouteDeps): void {
  app.get(
    '/flags/change-requests',
    {
      onRequest: guard('viewer'),
      schema: {
        tags: ['change requests'],
        summary: 'Change requests of every flag, newest first; `waiting=true`: those open or approved and not applied yet',
        security: bearerSecurity,
        querystring: Strict({ waiting: Type.Boolean({ default: false }), limit: Limit }),
        response: { 200: Type.Object({ items: Type.Array(ChangeRequestSchema) }), ...problemResponses },
      },
    },
    async (request) => ({ items: (await changeRequests.list(request.query)).map(changeRequestView) }),
  );
}
