import { hash } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { sendJson } from '../../../shared/http/compression.ts';
import { Type } from 'typebox';
import { SdkConfigurationSchema } from '../../../shared/contracts/sdk-api.ts';
import { problemResponses, sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { catchUpMs, eventStreamsMember, noneMatch, versionIdOf } from '../ofrep.ts';
import { sdkOf } from '../sdk-auth.ts';
import type { EvaluationRouteDeps } from './route-deps.ts';

export function sdkConfiguration(app: App, { replica, serverKey, eventStreams, compressed }: EvaluationRouteDeps): void {
  app.get(
    '/sdk/v1/configuration',
    {
      onRequest: serverKey,
      schema: {
        tags: ['sdk'],
        summary:
          'The flags of the key’s project in its environment, their rules and the segments these use, as one document, for SDKs that evaluate in-process (server keys); ETag/304, change stream',
        description:
          'Compressed when Accept-Encoding allows (br, else gzip) and larger than 1 KB, with the ETag made weak (W/"…"); If-None-Match compares weakly.',
        security: sdkKeySecurity,
        headers: Type.Object({ 'if-none-match': Type.Optional(Type.String()), 'accept-encoding': Type.Optional(Type.String()) }),
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
      // The document is made once per change and sent as text; the stream member is this key's own. Its compressed
      // form is kept by the body's own hash (configuration and token), so each key's is made once per change.
      const streams = eventStreamsMember(eventStreams, keyId);
      const body = `${document.json.slice(0, -1)}${streams}}`;
      const notModified = noneMatch(request.headers['if-none-match'], document.etag);
      return sendJson(reply, {
        acceptEncoding: request.headers['accept-encoding'],
        etag: document.etag,
        body,
        notModified,
        compressed: {
          get: (coding, _etag, make) => compressed.get(coding, `${document.etag}${hash('sha256', streams, 'base64url')}`, make),
        },
      });
    },
  );
}
