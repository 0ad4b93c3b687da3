import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { Environment, RuleFields } from '../targeting-schemas.ts';
import { RuleSchema } from '../../../shared/contracts/targeting-api.ts';

export function createRule(app: App, { service, guardFlagInBody }: TargetingRouteDeps): void {
  app.post(
    '/targeting/rules',
    {
      ...guardFlagInBody('editor'),
      schema: {
        tags: ['rules'],
        summary: 'Add a rule to a flag in one environment (after the others, or at `priority`)',
        description: "An editor of the flag's project may; the rule may use only segments of that project.",
        security: bearerSecurity,
        body: Strict({
          flagKey: FlagKey,
          environment: Environment,
          priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
          ...RuleFields,
        }),
        response: { 201: RuleSchema, ...problemResponses },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await service.createRule(request.body, callerCredential(request), principalOf(request), request.project)),
  );
}
