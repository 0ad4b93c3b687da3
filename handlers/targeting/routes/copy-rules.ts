import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { Environment } from '../targeting-schemas.ts';
import { RuleSchema } from '../../../shared/contracts/targeting-api.ts';

export function copyRules(app: App, { service, guardFlagInBody }: TargetingRouteDeps): void {
  app.put(
    '/targeting/rules/copy',
    {
      ...guardFlagInBody('editor'),
      schema: {
        tags: ['rules'],
        summary: "Replace a flag's rules in one environment with copies of its rules in another",
        description:
          'The rules of `flagKey` in `to` are deleted and those in `from` copied there (same order and priorities, new ids), in one transaction with their audit entries (`deleted` for each rule replaced, `created` for each copy) and one published change. The flag must exist, not be archived, and have both environments; the caller must be an editor in its project. The flags service calls this when it copies a whole environment state (`POST /flags/{key}/environments/{environment}/copy`), before it writes that state in its own audit trail.',
        security: bearerSecurity,
        body: Strict({ flagKey: FlagKey, from: Environment, to: Environment }),
        response: {
          200: Type.Object({ items: Type.Array(RuleSchema, { description: 'The rules now in `to`, in order' }) }),
          ...problemResponses,
        },
      },
    },
    async (request) => ({ items: await service.copyRules(request.body, callerCredential(request), principalOf(request), request.project) }),
  );
}
