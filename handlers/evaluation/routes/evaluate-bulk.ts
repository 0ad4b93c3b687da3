import { Type } from 'typebox';
import { evaluateAll } from '../../../shared/engine/index.ts';
import { problemResponses, sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { EvaluationRouteDeps } from './route-deps.ts';
import { EvaluationResultSchema } from '../evaluation-schemas.ts';
import { scopeOf, sdkOf } from '../sdk-auth.ts';

export function evaluateBulk(app: App, { replica, serverKey, events }: EvaluationRouteDeps): void {
  app.get(
    '/evaluate/bulk',
    {
      onRequest: serverKey,
      schema: {
        tags: ['evaluate'],
        summary:
          "Evaluate every flag of the SDK key's project in its environment; the context is the query (targetingKey, then one parameter per attribute)",
        security: sdkKeySecurity,
        querystring: Type.Object(
          { targetingKey: Type.Optional(Type.String({ maxLength: 256 })) },
          { additionalProperties: Type.String({ maxLength: 1000 }), maxProperties: 100 },
        ),
        response: { 200: Type.Object({ flags: Type.Array(EvaluationResultSchema) }), ...problemResponses },
      },
    },
    async (request) => {
      const grant = sdkOf(request);
      const { environment } = grant;
      const flags = evaluateAll(await replica.environment(environment), request.query, scopeOf(grant));
      events.record(environment, flags, request.query);
      return { flags };
    },
  );
}
