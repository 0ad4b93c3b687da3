import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { Environment } from '../targeting-schemas.ts';
import { RuleSchema } from '../../../shared/contracts/targeting-api.ts';

export function listRules(app: App, { service, guard }: TargetingRouteDeps): void {
  app.get(
    '/targeting/rules',
    {
      onRequest: guard('viewer'),
      schema: {
        tags: ['rules'],
        summary: 'Rules in evaluation order, for a flag and/or an environment',
        security: bearerSecurity,
        querystring: Strict({ flagKey: Type.Optional(FlagKey), environment: Type.Optional(Environment) }),
        response: { 200: Type.Object({ items: Type.Array(RuleSchema) }), ...problemResponses },
      },
    },
    async (request) => {
      return { items: await service.listRules({ flagKey: request.query.flagKey, environment: request.query.environment }) };
    },
  );
}
