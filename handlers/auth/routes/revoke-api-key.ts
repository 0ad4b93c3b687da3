import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { projectOfApiKeyInPath } from './project-scopes.ts';

export function revokeApiKey(app: App, { service, guard }: AuthRouteDeps): void {
  app.delete(
    '/auth/api-keys/:id',
    {
      onRequest: guard('editor', projectOfApiKeyInPath(service)),
      schema: {
        tags: ['api-keys'],
        summary: "Revoke an SDK key (its project's editors); evaluation refuses it within seconds",
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
