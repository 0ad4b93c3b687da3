import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { Environment } from '../targeting-schemas.ts';
import { RuleSchema } from '../../../shared/contracts/targeting-api.ts';

export function reorderRules(app: App, { service, guardFlagInBody }: TargetingRouteDeps): void {
  app.put(
    '/targeting/rules/order',
    {
      ...guardFlagInBody('editor'),
      schema: {
        tags: ['rules'],
        summary: 'Set the evaluation order of the rules of a flag in one environment',
        security: bearerSecurity,
        body: Strict({
          flagKey: FlagKey,
          environment: Environment,
          ruleIds: Type.Array(Uuid, { maxItems: 1000, description: 'Every rule of that flag and environment, first to last' }),
        }),
        response: { 200: Type.Object({ items: Type.Array(RuleSchema) }), ...problemResponses },
      },
    },
    async (request) => ({
      items: await service.reorderRules(request.body, callerCredential(request), principalOf(request), request.project),
    }),
  );
}
