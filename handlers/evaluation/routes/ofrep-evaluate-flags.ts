import { hash } from 'node:crypto';
import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import { evaluateAll } from '../../../shared/engine/index.ts';
import { sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { EvaluationRouteDeps } from './route-deps.ts';
import { OfrepBulkFailure, OfrepFailure, OfrepGeneralError, OfrepRequest, OfrepSuccess, ofrepBodiless } from '../evaluation-schemas.ts';
import { ofrepErrorHandler, ofrepJson } from '../ofrep.ts';
import { sdkOf } from '../sdk-auth.ts';

/**
 * Whether If-None-Match names this ETag, by RFC 9110 §13.1.2: `*`, or a list of entity tags compared weakly — a
 * `W/` on either side does not matter (a cached bulk answer is as good as the same one, byte for byte or not).
 */
function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = etag.replace(/^W\//, '');
  for (const tag of header.match(/\*|(?:W\/)?"[^"]*"/g) ?? []) if (tag === '*' || tag.replace(/^W\//, '') === opaque) return true;
  return false;
}

export function ofrepEvaluateFlags(app: App, { replica, anyKey, events }: EvaluationRouteDeps): void {
  app.post(
    '/ofrep/v1/evaluate/flags',
    {
      onRequest: anyKey,
      errorHandler: ofrepErrorHandler,
      schema: {
        tags: ['ofrep'],
        summary: 'OFREP bulk evaluation: every flag for one context; the ETag covers configuration and context (304 on If-None-Match)',
        security: sdkKeySecurity,
        headers: Type.Object({ 'if-none-match': Type.Optional(Type.String()) }),
        body: OfrepRequest,
        response: {
          200: Type.Object({ flags: Type.Array(Type.Union([OfrepSuccess, OfrepFailure])) }),
          304: Type.Null({ description: 'The answer would be the one of the ETag in If-None-Match' }),
          400: OfrepBulkFailure,
          ...ofrepBodiless,
          '5xx': OfrepGeneralError,
        },
      },
    },
    async (request, typedReply) => {
      // The body is put together here from each answer's prepared JSON (and their hashes make the ETag).
      const reply = typedReply as FastifyReply;
      const { environment, kind } = sdkOf(request);
      const context = request.body.context ?? {};
      const results = evaluateAll(await replica.environment(environment), context, { clientSide: kind === 'client' });
      events.record(environment, results, context);
      const answers = results.map(ofrepJson);
      // The answer is a function of configuration and context only, so a hash of its parts' hashes is an ETag
      // that covers both and is the same on every instance.
      let digests = '';
      for (const answer of answers) digests += answer.digest;
      const etag = `"${hash('sha256', digests, 'base64url').slice(0, 27)}"`;
      if (noneMatch(request.headers['if-none-match'], etag)) return reply.code(304).header('etag', etag).send();
      let payload = '{"flags":[';
      for (let i = 0; i < answers.length; i++) payload += (i === 0 ? '' : ',') + answers[i]!.json;
      return reply.header('etag', etag).type('application/json').send(`${payload}]}`);
    },
  );
}
