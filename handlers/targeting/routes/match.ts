import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { MatchAnswerSchema } from '../../../shared/contracts/targeting-api.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { callerCredential } from '../../../shared/http/authenticate.ts';
import { ContextSchema, Environment } from '../targeting-schemas.ts';

export function matchTargeting(app: App, { service, guardFlagInBody }: TargetingRouteDeps): void {
  app.post(
    '/targeting/match',
    {
      ...guardFlagInBody('viewer'),
      schema: {
        tags: ['match'],
        summary: 'Evaluate a flag for a context with the production engine, and explain which rules and conditions held',
        security: bearerSecurity,
        body: Strict({ flagKey: FlagKey, environment: Environment, context: ContextSchema }),
        response: { 200: MatchAnswerSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { result, ...explanation } = await service.match(request.body, callerCredential(request), request.project);
      return { result, explanation };
    },
  );
}
