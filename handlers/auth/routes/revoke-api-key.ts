import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';

export function revokeApiKey(app: App, { service, guard }: AuthRouteDeps): void {
  app.delete(
    '/auth/api-keys/:id',
    {
      onRequest: guard('editor'),
      schema: {
        tags: ['api-keys'],
        summary: 'Revoke an SDK key; evaluation refuses it within seconds',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        response: { 204: Type.Null({ description: 'Revoked (also when it already was)' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await service.revokeApiKey(request.params.id);
      return reply.code(204).send(null);
    },
  );
}
