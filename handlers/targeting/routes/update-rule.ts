import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { projectFound } from './project-scopes.ts';
import { RuleReplacementFields } from '../targeting-schemas.ts';
import { RuleSchema } from '../../../shared/contracts/targeting-api.ts';

export function updateRule(app: App, { service, guard, inProject }: TargetingRouteDeps): void {
  app.put(
    '/targeting/rules/:id',
    {
      onRequest: guard('editor', inProject.rule),
      schema: {
        tags: ['rules'],
        summary:
          "Replace a rule's name, conditions, segments and serve (its flag, environment and place stay); the document GET answered may be sent back as it was",
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        body: Strict(RuleReplacementFields),
        response: { 200: RuleSchema, ...problemResponses },
      },
    },
    async (request) => {
      const project = projectFound(request, `No rule ${request.params.id}`);
      return service.updateRule(request.params.id, request.body, callerCredential(request), principalOf(request), project);
    },
  );
}
