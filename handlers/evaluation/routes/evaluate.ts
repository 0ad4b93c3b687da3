import { Type } from 'typebox';
import { evaluateFlag } from '../../../shared/engine/index.ts';
import { AppError } from '../../../shared/http/problem.ts';
import { Strict, problemResponses, sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { EvaluationRouteDeps } from './route-deps.ts';
import { ContextSchema, EvaluationResultSchema, ExpectedType, FlagKeyParam } from '../evaluation-schemas.ts';
import { ofAnotherProject, scopeOf, sdkOf } from '../sdk-auth.ts';

export function evaluate(app: App, { replica, serverKey, events }: EvaluationRouteDeps): void {
  app.post(
    '/evaluate',
    {
      onRequest: serverKey,
      schema: {
        tags: ['evaluate'],
        summary: 'Evaluate one flag of the SDK key’s project for a context, in the environment of the SDK key',
        security: sdkKeySecurity,
        body: Strict({ flagKey: FlagKeyParam, context: ContextSchema, type: Type.Optional(ExpectedType) }),
        response: { 200: EvaluationResultSchema, ...problemResponses },
      },
    },
    async (request) => {
      const grant = sdkOf(request);
      const { environment } = grant;
      const { flagKey, context, type } = request.body;
      const scope = scopeOf(grant);
      const compiled = await replica.environment(environment);
      const result = evaluateFlag(compiled, flagKey, context, type ? { ...scope, expectedType: type } : scope);
      // Another project's flag is unknown to this key: nothing about it is recorded either.
      if (!ofAnotherProject(compiled, flagKey, grant)) events.record(environment, [result], context);
      if (result.errorCode === 'FLAG_NOT_FOUND') throw new AppError('NOT_FOUND', `No flag "${flagKey}" in ${environment}`);
      return result;
    },
  );
}
