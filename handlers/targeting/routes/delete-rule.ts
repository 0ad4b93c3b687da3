import { Type } from 'typebox';
import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { projectFound } from './project-scopes.ts';

export function deleteRule(app: App, { service, guard, inProject }: TargetingRouteDeps): void {
  app.delete(
    '/targeting/rules/:id',
    {
      onRequest: guard('editor', inProject.rule),
      schema: {
        tags: ['rules'],
        summary: 'Delete a rule; the ones after it move up',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      const project = projectFound(request, `No rule ${request.params.id}`);
      await service.deleteRule(request.params.id, callerCredential(request), principalOf(request), project);
      return reply.code(204).send(null);
    },
  );
}
