import type { OutgoingHttpHeaders } from 'node:http';
import { Type } from 'typebox';
import { ofrepEventStreamPath } from '../../../shared/contracts/ofrep/event-stream.ts';
import { AppError } from '../../../shared/http/problem.ts';
import { Strict, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import { verifyStreamToken } from '../event-streams/stream-tokens.ts';
import type { EvaluationRouteDeps } from './route-deps.ts';
import { defaultProject } from '../../../shared/contracts/project-model.ts';

/**
 * OFREP 0.3's event stream: Server-Sent Events telling an SDK that its environment's configuration changed, so it
 * re-fetches the bulk evaluation (ADR-0008). Opened with the URL the bulk answer gave (`eventStreams`).
 */
export function ofrepEventStream(app: App, { replica, eventStreams }: EvaluationRouteDeps): void {
  if (!eventStreams) return;
  const { hub, keyById } = eventStreams;
  app.get(
    ofrepEventStreamPath,
    {
      schema: {
        tags: ['ofrep'],
        summary: 'OFREP event stream (text/event-stream): a refetchEvaluation event whenever the configuration changes',
        description:
          'Open it with the URL of `eventStreams` in the bulk evaluation answer: its token authorizes it (EventSource sends no header).',
        querystring: Strict({ token: Type.String({ minLength: 1, maxLength: 200 }) }),
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ maxLength: 200 })) }),
        response: problemResponses,
      },
    },
    async (request, reply) => {
      const key = verifyStreamToken(request.query.token, keyById);
      // The environment is loaded before the stream opens: its events start from the version it holds.
      await replica.environment(key.environment);
      if (hub.full) {
        throw new AppError('SERVICE_UNAVAILABLE', 'This instance holds as many event streams as it may; retry', {
          headers: { 'retry-after': '2' },
        });
      }
      // From here the route writes the response itself; the headers set so far (request id, CORS) go with it.
      reply.hijack();
      const headers: OutgoingHttpHeaders = {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // nginx and similar proxies would otherwise hold events back in a buffer.
        'x-accel-buffering': 'no',
        // The connection ends with the stream: never kept for another request (shutdown must not wait on it).
        connection: 'close',
      };
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) headers[name] ??= value;
      reply.raw.writeHead(200, headers);
      // Of the environment's changes, the stream hears only those of the key's project.
      const grant = { environment: key.environment, keyId: key.id, project: key.project ?? defaultProject };
      hub.open(reply.raw, grant, request.headers['last-event-id']);
    },
  );
}
