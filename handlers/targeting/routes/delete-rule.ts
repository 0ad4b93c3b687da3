import { Type } from 'typebox';
import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';

export function deleteRule(app: App, { service, guard }: TargetingRouteDeps): void {
  app.delete(
    '/targeting/rules/:id',
    {
      onRequest: guard('editor'),
      schema: {
        tags: ['rules'],
        summary: 'Delete a rule; the ones after it move up',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await service.deleteRule(request.params.id, callerCredential(request), principalOf(request));
      return reply.code(204).send(null);
    },
  );
}
