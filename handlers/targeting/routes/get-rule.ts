import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { projectFound } from './project-scopes.ts';
import { RuleSchema } from '../../../shared/contracts/targeting-api.ts';

export function getRule(app: App, { service, guard, inProject }: TargetingRouteDeps): void {
  app.get(
    '/targeting/rules/:id',
    {
      onRequest: guard('viewer', inProject.rule),
      schema: {
        tags: ['rules'],
        summary: 'One rule',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        response: { 200: RuleSchema, ...problemResponses },
      },
    },
    async (request) => {
      projectFound(request, `No rule ${request.params.id}`);
      return service.getRule(request.params.id);
    },
  );
}
