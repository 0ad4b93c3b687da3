import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import type { FastifyReply } from 'fastify';
import { FlagKey } from '../../../shared/contracts/flag-model.ts';
import { evaluateFlag } from '../../../shared/engine/index.ts';
import { sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { EvaluationRouteDeps } from './route-deps.ts';
import { OfrepFailure, OfrepFlagNotFound, OfrepGeneralError, OfrepRequest, OfrepSuccess, ofrepBodiless } from '../evaluation-schemas.ts';
import { jsonOfAnswer, ofrepErrorHandler, ofrepJson, ofrepNotFound } from '../ofrep.ts';
import { ofAnotherProject, scopeOf, sdkOf } from '../sdk-auth.ts';

const flagKey = Compile(FlagKey);

export function ofrepEvaluateFlag(app: App, { replica, anyKey, events }: EvaluationRouteDeps): void {
  app.post(
    '/ofrep/v1/evaluate/flags/:key',
    {
      onRequest: anyKey,
      errorHandler: ofrepErrorHandler,
      schema: {
        tags: ['ofrep'],
        summary: 'OFREP single flag evaluation',
        security: sdkKeySecurity,
        // Any text: a key no flag can have is simply not found (404), never a 400 about the path.
        params: Type.Object({ key: Type.String({ description: 'The flag key' }) }),
        body: OfrepRequest,
        response: { 200: OfrepSuccess, 400: OfrepFailure, 404: OfrepFlagNotFound, ...ofrepBodiless, '5xx': OfrepGeneralError },
      },
    },
    async (request, typedReply) => {
      const reply = typedReply as FastifyReply;
      const { key } = request.params;
      // A key that is not a flag key (over 100 characters, however long, or not a slug) names no flag: it is not
      // evaluated, nor recorded as an evaluation.
      if (!flagKey.Check(key)) {
        const notFound = jsonOfAnswer(ofrepNotFound(key, 'No flag has this key: flag keys are lower-case slugs of at most 100 characters'));
        return reply.code(notFound.status).type('application/json').send(notFound.json);
      }
      const grant = sdkOf(request);
      const { environment } = grant;
      const context = request.body.context ?? {};
      const compiled = await replica.environment(environment);
      // A flag of another project answers exactly as an unknown one (FLAG_NOT_FOUND), and is not recorded.
      const result = evaluateFlag(compiled, key, context, scopeOf(grant));
      if (!ofAnotherProject(compiled, key, grant)) events.record(environment, [result], context);
      // The answer's JSON is prepared once per compiled answer (ofrepJson), so it is sent as text.
      const answer = ofrepJson(result);
      return reply.code(answer.status).type('application/json').send(answer.json);
    },
  );
}
