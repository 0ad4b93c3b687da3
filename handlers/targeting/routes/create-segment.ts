import { SegmentKey } from '../../../shared/contracts/targeting-model.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { SegmentFields, segmentView } from '../targeting-schemas.ts';
import { SegmentSchema } from '../../../shared/contracts/targeting-api.ts';

export function createSegment(app: App, { service, guard }: TargetingRouteDeps): void {
  app.post(
    '/targeting/segments',
    {
      onRequest: guard('editor'),
      schema: {
        tags: ['segments'],
        summary: 'Create a reusable segment',
        security: bearerSecurity,
        body: Strict({ key: SegmentKey, ...SegmentFields }),
        response: { 201: SegmentSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const segment = await service.createSegment(request.body, principalOf(request));
      return reply.code(201).header('etag', `"${segment.version}"`).send(segmentView(segment));
    },
  );
}
