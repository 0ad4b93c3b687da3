import { createHash } from 'node:crypto';
import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import { evaluateAll } from '../../../shared/engine/index.ts';
import { sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { EvaluationRouteDeps } from '../evaluation-routes.ts';
import { OfrepFailure, OfrepRequest } from '../evaluation-schemas.ts';
import { ofrepErrorHandler, toOfrep } from '../ofrep.ts';
import { sdkOf } from '../sdk-auth.ts';

export function ofrepEvaluateFlags(app: App, { replica, sdkKey, events }: EvaluationRouteDeps): void {
  app.post(
    '/ofrep/v1/evaluate/flags',
    {
      onRequest: sdkKey,
      errorHandler: ofrepErrorHandler,
      schema: {
        tags: ['ofrep'],
        summary: 'OFREP bulk evaluation: every flag for one context; the ETag covers configuration and context (304 on If-None-Match)',
        security: sdkKeySecurity,
        headers: Type.Object({ 'if-none-match': Type.Optional(Type.String()) }),
        body: OfrepRequest,
        response: { 400: OfrepFailure },
      },
    },
    async (request, typedReply) => {
      // The body is serialized here (its hash is the ETag), so the reply is sent as prepared text.
      const reply = typedReply as FastifyReply;
      const { environment, credential } = sdkOf(request);
      const context = request.body.context ?? {};
      const results = evaluateAll(await replica.environment(environment, credential), context);
      for (const result of results) events.record(environment, result, context);
      const payload = JSON.stringify({ flags: results.map((r) => toOfrep(r).body) });
      // The answer is a function of configuration and context only, so its hash is an ETag that covers both
      // and is the same on every instance.
      const etag = `"${createHash('sha256').update(payload).digest('base64url').slice(0, 27)}"`;
      const noneMatch = request.headers['if-none-match'];
      if (noneMatch && noneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) return reply.code(304).header('etag', etag).send();
      return reply.header('etag', etag).type('application/json').send(payload);
    },
  );
}
