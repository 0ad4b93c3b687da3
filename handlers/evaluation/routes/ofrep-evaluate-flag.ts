import { Type } from 'typebox';
import { evaluateFlag } from '../../../shared/engine/index.ts';
import { sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { EvaluationRouteDeps } from '../evaluation-routes.ts';
import { FlagKeyParam, OfrepFailure, OfrepRequest, OfrepSuccess } from '../evaluation-schemas.ts';
import { ofrepErrorHandler, toOfrep } from '../ofrep.ts';
import { sdkOf } from '../sdk-auth.ts';

export function ofrepEvaluateFlag(app: App, { replica, sdkKey, events }: EvaluationRouteDeps): void {
  app.post(
    '/ofrep/v1/evaluate/flags/:key',
    {
      onRequest: sdkKey,
      errorHandler: ofrepErrorHandler,
      schema: {
        tags: ['ofrep'],
        summary: 'OFREP single flag evaluation',
        security: sdkKeySecurity,
        params: Type.Object({ key: FlagKeyParam }),
        body: OfrepRequest,
        response: { 200: OfrepSuccess, 400: OfrepFailure, 404: OfrepFailure },
      },
    },
    async (request, reply) => {
      const { environment, credential } = sdkOf(request);
      const context = request.body.context ?? {};
      const result = evaluateFlag(await replica.environment(environment, credential), request.params.key, context);
      events.record(environment, result, context);
      const answer = toOfrep(result);
      return answer.status === 200 ? reply.code(200).send(answer.body) : reply.code(answer.status).send(answer.body);
    },
  );
}
