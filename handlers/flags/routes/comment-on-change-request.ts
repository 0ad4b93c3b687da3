import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ChangeRequestSchema } from '../../../shared/contracts/flags-api.ts';
import { changeRequestView } from '../change-requests/change-request.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function commentOnChangeRequest(app: App, { changeRequests, guard, inProject }: FlagRouteDeps): void {
  app.post(
    '/flags/change-requests/:id/comments',
    {
      onRequest: guard('editor', inProject.changeRequest),
      schema: {
        tags: ['change requests'],
        summary: 'Add a comment to a change request',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        body: Strict({ body: Type.String({ minLength: 1, maxLength: 2000 }) }),
        response: { 201: ChangeRequestSchema, ...problemResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(changeRequestView(await changeRequests.comment(request.params.id, principalOf(request), request.body.body))),
  );
}
