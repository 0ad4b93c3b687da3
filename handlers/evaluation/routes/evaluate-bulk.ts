import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { codingFor, compress, varyOn } from '../../../shared/http/compression.ts';
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
        description: 'Answers above 1 KB are compressed when Accept-Encoding allows (br, else gzip).',
        headers: Type.Object({ 'accept-encoding': Type.Optional(Type.String()) }),
        response: { 200: Type.Object({ flags: Type.Array(EvaluationResultSchema) }), ...problemResponses },
      },
    },
    async (request, typedReply) => {
      const reply = typedReply as FastifyReply;
      const grant = sdkOf(request);
      const { environment } = grant;
      const flags = evaluateAll(await replica.environment(environment), request.query, scopeOf(grant));
      events.record(environment, flags, request.query);
      // Serialized here (by the route's response schema) to know whether it is worth compressing. No ETag to
      // key a reuse by: each answer is compressed as it is sent.
      const json = reply.serialize({ flags }) as string;
      const coding = codingFor(request.headers['accept-encoding'], json.length);
      varyOn(reply, 'Accept-Encoding');
      void reply.type('application/json');
      return coding === undefined ? reply.send(json) : reply.header('content-encoding', coding).send(compress(json, coding));
    },
  );
}
