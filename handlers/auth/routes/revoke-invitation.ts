import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';

export function revokeInvitation(app: App, { service, guard }: AuthRouteDeps): void {
  app.delete(
    '/auth/invitations/:id',
    {
      onRequest: guard('admin'),
      schema: {
        tags: ['invitations'],
        summary: 'Revoke an invitation (admin): its link stops working at once',
        description: '409 when it was already accepted (disable the account instead).',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        response: { 204: Type.Null({ description: 'Revoked (also when it already was, or had expired)' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await service.revokeInvitation(request.params.id);
      return reply.code(204).send(null);
    },
  );
}
