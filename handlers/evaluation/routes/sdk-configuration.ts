import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { SdkConfigurationSchema } from '../../../shared/contracts/sdk-api.ts';
import { problemResponses, sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { catchUpMs, eventStreamsMember, noneMatch, versionIdOf } from '../ofrep.ts';
import { sdkOf } from '../sdk-auth.ts';
import type { EvaluationRouteDeps } from './route-deps.ts';

export function sdkConfiguration(app: App, { replica, serverKey, eventStreams }: EvaluationRouteDeps): void {
  app.get(
    '/sdk/v1/configuration',
    {
      onRequest: serverKey,
      schema: {
        tags: ['sdk'],
        summary:
          'The flags of the key’s project in its environment, their rules and the segments these use, as one document, for SDKs that evaluate in-process (server keys); ETag/304, change stream',
        security: sdkKeySecurity,
        headers: Type.Object({ 'if-none-match': Type.Optional(Type.String()) }),
        querystring: Type.Object({
          flagConfigEtag: Type.Optional(
            Type.String({
              maxLength: 200,
              description: 'The `etag` of the change event that triggered this re-fetch (waits up to 1 s for it)',
            }),
          ),
        }),
        response: {
          200: SdkConfigurationSchema,
          304: Type.Null({ description: 'The configuration is the one of the ETag in If-None-Match' }),
          ...problemResponses,
        },
      },
    },
    async (request, typedReply) => {
      const reply = typedReply as FastifyReply;
      const { environment, keyId, project } = sdkOf(request);
      const { flagConfigEtag } = request.query;
      if (flagConfigEtag !== undefined) await replica.versions.caughtUpWith(versionIdOf(flagConfigEtag), catchUpMs);
      const document = await replica.document(environment, project);
      // The ETag covers the configuration only: the stream's token changes every few minutes, the configuration not.
      if (noneMatch(request.headers['if-none-match'], document.etag)) return reply.code(304).header('etag', document.etag).send();
      // The document is made once per change and sent as text; the stream member is this key's own.
      const body = `${document.json.slice(0, -1)}${eventStreamsMember(eventStreams, keyId)}}`;
      return reply.header('etag', document.etag).type('application/json').send(body);
    },
  );
}
