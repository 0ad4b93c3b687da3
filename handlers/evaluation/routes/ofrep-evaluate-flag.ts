import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import { evaluateFlag } from '../../../shared/engine/index.ts';
import { sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { EvaluationRouteDeps } from '../evaluation-routes.ts';
import { FlagKeyParam, OfrepFailure, OfrepFlagNotFound, OfrepGeneralError, OfrepRequest, OfrepSuccess, ofrepBodiless } from '../evaluation-schemas.ts';
import { ofrepErrorHandler, ofrepJson } from '../ofrep.ts';
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
        response: { 200: OfrepSuccess, 400: OfrepFailure, 404: OfrepFlagNotFound, ...ofrepBodiless, '5xx': OfrepGeneralError },
      },
    },
    async (request, typedReply) => {
      const reply = typedReply as FastifyReply;
      const { environment, credential } = sdkOf(request);
      const context = request.body.context ?? {};
      const result = evaluateFlag(await replica.environment(environment, credential), request.params.key, context);
      events.record(environment, [result], context);
      // The answer's JSON is prepared once per compiled answer (ofrepJson), so it is sent as text.
      const answer = ofrepJson(result);
      return reply.code(answer.status).type('application/json').send(answer.json);
    },
  );
}
