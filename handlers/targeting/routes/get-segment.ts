import { SegmentKey } from '../../../shared/contracts/targeting-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { projectFound } from './project-scopes.ts';
import { segmentView } from '../targeting-schemas.ts';
import { SegmentSchema } from '../../../shared/contracts/targeting-api.ts';

export function getSegment(app: App, { service, guard, inProject }: TargetingRouteDeps): void {
  app.get(
    '/targeting/segments/:key',
    {
      onRequest: guard('viewer', inProject.segment),
      schema: {
        tags: ['segments'],
        summary: 'One segment; the ETag is its version',
        security: bearerSecurity,
        params: Strict({ key: SegmentKey }),
        response: { 200: SegmentSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      projectFound(request, `No segment "${request.params.key}"`);
      const segment = await service.getSegment(request.params.key);
      return reply.header('etag', `"${segment.version}"`).send(segmentView(segment));
    },
  );
}
