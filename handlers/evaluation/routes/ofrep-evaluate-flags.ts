import { hash } from 'node:crypto';
import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import { evaluateAll } from '../../../shared/engine/index.ts';
import { sdkKeySecurity } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { sendJson } from '../../../shared/http/compression.ts';
import type { EvaluationRouteDeps } from './route-deps.ts';
import {
  OfrepBulkFailure,
  OfrepEventStream,
  OfrepFailure,
  OfrepGeneralError,
  OfrepRequest,
  OfrepSuccess,
  ofrepBodiless,
} from '../evaluation-schemas.ts';
import { catchUpMs, eventStreamsMember, noneMatch, ofrepErrorHandler, ofrepJson, versionIdOf } from '../ofrep.ts';
import { scopeOf, sdkOf } from '../sdk-auth.ts';
import { defaultProject } from '../../../shared/contracts/project-model.ts';

export function ofrepEvaluateFlags(app: App, { replica, anyKey, events, eventStreams, compressed }: EvaluationRouteDeps): void {
  app.post(
    '/ofrep/v1/evaluate/flags',
    {
      onRequest: anyKey,
      errorHandler: ofrepErrorHandler,
      schema: {
        tags: ['ofrep'],
        summary: 'OFREP bulk evaluation: every flag for one context; the ETag covers configuration and context (304 on If-None-Match)',
        description:
          'Answers above 1 KB are compressed when Accept-Encoding allows (br, else gzip), with a weak ETag (W/"…") of the same value: If-None-Match compares weakly, so either form gets the 304.',
        security: sdkKeySecurity,
        headers: Type.Object({ 'if-none-match': Type.Optional(Type.String()), 'accept-encoding': Type.Optional(Type.String()) }),
        querystring: Type.Object({
          flagConfigEtag: Type.Optional(
            Type.String({
              maxLength: 200,
              description:
                'The `etag` of the change event that triggered this re-fetch: answered only once this instance has applied that change (it waits up to 1 s)',
            }),
          ),
          flagConfigLastModified: Type.Optional(
            Type.String({
              maxLength: 40,
              pattern: '^([0-9]{1,12}|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2}))$',
              description: 'The `lastModified` of that event: Unix seconds or an ISO 8601 date-time',
            }),
          ),
        }),
        body: OfrepRequest,
        response: {
          200: Type.Object({
            flags: Type.Array(Type.Union([OfrepSuccess, OfrepFailure])),
            eventStreams: Type.Optional(Type.Array(OfrepEventStream)),
          }),
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
      const grant = sdkOf(request);
      const { environment, keyId, project } = grant;
      const context = request.body.context ?? {};
      // Re-fetching on a change event: the event may come from an instance that applied the change before this one.
      const { flagConfigEtag } = request.query;
      if (flagConfigEtag !== undefined) await replica.versions.caughtUpWith(versionIdOf(flagConfigEtag), catchUpMs);
      const results = evaluateAll(await replica.environment(environment), context, scopeOf(grant));
      events.record(environment, results, context);
      const answers = results.map(ofrepJson);
      // The answer is a function of configuration and context only, so a hash of its parts' hashes is an ETag
      // that covers both and is the same on every instance.
      // The event stream URL is part of the answer (its token changes every few minutes), so of the ETag too.
      // So is the key's project: two projects' answers never share an ETag, even when they are alike. The default
      // project's ETags stay as they were before projects (no input of theirs starts with "<project>:").
      const streams = eventStreamsMember(eventStreams, keyId);
      let digests = project === defaultProject ? streams : `${project}:${streams}`;
      for (const answer of answers) digests += answer.digest;
      const etag = `"${hash('sha256', digests, 'base64url').slice(0, 27)}"`;
      // Joined as a rope: a 304 never flattens it, and its length decides whether the answer is worth compressing.
      let payload = '{"flags":[';
      for (let i = 0; i < answers.length; i++) payload += (i === 0 ? '' : ',') + answers[i]!.json;
      return sendJson(reply, {
        acceptEncoding: request.headers['accept-encoding'],
        etag,
        body: `${payload}]${streams}}`,
        notModified: noneMatch(request.headers['if-none-match'], etag),
        compressed,
      });
    },
  );
}
