import { Type } from 'typebox';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { readerOf } from '../../../shared/http/authenticate.ts';
import { Strict, problemResponses, readerSecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from '../targeting-routes.ts';
import { Environment, RuleSchema } from '../targeting-schemas.ts';

export function listRules(app: App, { service, reader }: TargetingRouteDeps): void {
  app.get(
    '/targeting/rules',
    {
      onRequest: reader,
      schema: {
        tags: ['rules'],
        summary: 'Rules in evaluation order, for a flag and/or an environment (an SDK key sees its own environment)',
        security: readerSecurity,
        querystring: Strict({ flagKey: Type.Optional(FlagKey), environment: Type.Optional(Environment) }),
        response: { 200: Type.Object({ items: Type.Array(RuleSchema) }), ...problemResponses },
      },
    },
    async (request) => {
      const who = readerOf(request);
      const environment = who.kind === 'sdk' ? who.environment : request.query.environment;
      if (who.kind === 'sdk' && request.query.environment && request.query.environment !== who.environment) return { items: [] };
      return { items: await service.listRules({ flagKey: request.query.flagKey, environment }) };
    },
  );
}
