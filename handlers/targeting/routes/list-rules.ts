import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { AppError } from '../../../shared/http/problem.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { Environment } from '../targeting-schemas.ts';
import { RuleSchema } from '../../../shared/contracts/targeting-api.ts';

export function listRules(app: App, { service, guard, inProject }: TargetingRouteDeps): void {
  app.get(
    '/targeting/rules',
    {
      onRequest: guard('viewer', inProject.flagInQuery),
      schema: {
        tags: ['rules'],
        summary: 'Rules in evaluation order, for a flag and/or an environment',
        description:
          "With `flagKey`: a viewer of the flag's project (none when there is no such flag). Without: the rules of every flag of every project, for the organisation admin (the flags service asks so before it deletes an environment).",
        security: bearerSecurity,
        querystring: Strict({ flagKey: Type.Optional(FlagKey), environment: Type.Optional(Environment) }),
        response: { 200: Type.Object({ items: Type.Array(RuleSchema) }), ...problemResponses },
      },
    },
    async (request) => {
      const { flagKey, environment } = request.query;
      if (flagKey === undefined) {
        if (principalOf(request).role !== 'admin')
          throw new AppError('FORBIDDEN', 'The rules of every flag are the organisation admin’s to list; name a flagKey');
        return { items: await service.listRules({ environment }) };
      }
      // No such flag (any more): no rules of it are anyone's to read.
      if (request.project === undefined) return { items: [] };
      return { items: await service.listRules({ flagKey, environment }) };
    },
  );
}
