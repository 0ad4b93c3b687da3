import { SegmentKey } from '../../../shared/contracts/targeting-model.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { projectFound } from './project-scopes.ts';
import { IfMatchHeaders, SegmentReplacementFields, segmentBodyLimit, segmentView } from '../targeting-schemas.ts';
import { SegmentSchema } from '../../../shared/contracts/targeting-api.ts';

export function updateSegment(app: App, { service, guard, inProject }: TargetingRouteDeps): void {
  app.put(
    '/targeting/segments/:key',
    {
      onRequest: guard('editor', inProject.segment),
      bodyLimit: segmentBodyLimit,
      schema: {
        tags: ['segments'],
        summary: 'Replace a segment; the document GET answered may be sent back as it was; If-Match guards against lost updates',
        security: bearerSecurity,
        params: Strict({ key: SegmentKey }),
        headers: IfMatchHeaders,
        body: Strict(SegmentReplacementFields),
        response: { 200: SegmentSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      projectFound(request, `No segment "${request.params.key}"`);
      const segment = await service.updateSegment(request.params.key, request.body, request.headers['if-match'], principalOf(request));
      return reply.header('etag', `"${segment.version}"`).send(segmentView(segment));
    },
  );
}
