import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { RuleSpec } from '../../../shared/contracts/targeting-model.ts';
import { RuleSchema } from '../../../shared/contracts/targeting-api.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { Environment } from '../targeting-schemas.ts';
import type { TargetingRouteDeps } from './route-deps.ts';

export function setRules(app: App, { service, guardFlagInBody }: TargetingRouteDeps): void {
  app.put(
    '/targeting/rules/set',
    {
      ...guardFlagInBody('editor'),
      schema: {
        tags: ['rules'],
        summary: 'Set a flag’s rules in one environment to exactly these, in this order (how an approved change request of rules applies)',
        description:
          'In a protected environment only with `ToggleMaster-Change-Request` naming the change request that approved exactly these rules and was applied within the last minute (the flags service sends it); otherwise 409 CHANGE_REQUEST_REQUIRED.',
        security: bearerSecurity,
        headers: Type.Object({ 'togglemaster-change-request': Type.Optional(Uuid) }),
        body: Strict({ flagKey: FlagKey, environment: Environment, rules: Type.Array(RuleSpec, { maxItems: 200 }) }),
        response: { 200: Type.Object({ items: Type.Array(RuleSchema) }), ...problemResponses },
      },
    },
    async (request) => ({
      items: await service.setRules(
        { ...request.body, changeRequestId: request.headers['togglemaster-change-request'] },
        callerCredential(request),
        principalOf(request),
        request.project,
      ),
    }),
  );
}
