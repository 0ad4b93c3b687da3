import type { App } from '../../../shared/http/server.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ChangeRequestSchema } from '../../../shared/contracts/flags-api.ts';
import { changeRequestView } from '../change-requests/change-request.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function getChangeRequest(app: App, { changeRequests, guard, inProject }: FlagRouteDeps): void {
  app.get(
    '/flags/change-requests/:id',
    {
      onRequest: guard('viewer', inProject.changeRequest),
      schema: {
        tags: ['change requests'],
        summary: 'A change request with its diff, approvals and comments',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        response: { 200: ChangeRequestSchema, ...problemResponses },
      },
    },
    async (request) => changeRequestView(await changeRequests.get(request.params.id)),
  );
}
