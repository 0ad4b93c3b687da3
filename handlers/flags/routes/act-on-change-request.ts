import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ChangeRequestSchema } from '../../../shared/contracts/flags-api.ts';
import { AppError } from '../../../shared/http/problem.ts';
import { changeRequestView } from '../change-requests/change-request.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function actOnChangeRequest(app: App, { changeRequests, guard, inProject }: FlagRouteDeps): void {
  app.post(
    '/flags/change-requests/:id/:action',
    {
      onRequest: guard('editor', inProject.changeRequest),
      schema: {
        tags: ['change requests'],
        summary:
          'Approve (not its author), reject (with a comment), cancel (its author or an admin) or apply (once approved) a change request',
        description:
          'Apply writes the change exactly as planned, or refuses with 409 and closes the request as conflicted if a field it sets moved since it was opened.',
        security: bearerSecurity,
        params: Strict({ id: Uuid, action: Type.Enum(['approve', 'reject', 'cancel', 'apply']) }),
        body: Type.Optional(Strict({ comment: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) })),
        response: { 200: ChangeRequestSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { id, action } = request.params;
      const by = principalOf(request);
      const comment = request.body?.comment;
      switch (action) {
        case 'approve':
          return changeRequestView(await changeRequests.approve(id, by, comment));
        case 'reject':
          if (!comment)
            throw new AppError('VALIDATION_FAILED', 'Say why it is rejected', {
              errors: [{ path: 'body/comment', message: 'is required to reject' }],
            });
          return changeRequestView(await changeRequests.reject(id, by, comment));
        case 'cancel':
          return changeRequestView(await changeRequests.cancel(id, by));
        case 'apply':
          return changeRequestView(await changeRequests.apply(id, by, callerCredential(request)));
      }
    },
  );
}
