import { SegmentKey } from '../../../shared/contracts/targeting-model.ts';
import { ProjectQuery } from '../../../shared/contracts/project-model.ts';
import { callerCredential, principalOf, projectOfRequest } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { SegmentFields, segmentBodyLimit, segmentView } from '../targeting-schemas.ts';
import { SegmentSchema } from '../../../shared/contracts/targeting-api.ts';

export function createSegment(app: App, { service, guard, inProject }: TargetingRouteDeps): void {
  app.post(
    '/targeting/segments',
    {
      onRequest: guard('editor', inProject.query),
      bodyLimit: segmentBodyLimit,
      schema: {
        tags: ['segments'],
        summary: 'Create a reusable segment in a project (the default project without `project`)',
        description:
          'Only rules of flags of that project may use it. Segment keys are unique across projects (409 when taken); 404 when there is no such project.',
        security: bearerSecurity,
        querystring: Strict({ project: ProjectQuery }),
        body: Strict({ key: SegmentKey, ...SegmentFields }),
        response: { 201: SegmentSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const segment = await service.createSegment(request.body, projectOfRequest(request), callerCredential(request), principalOf(request));
      return reply.code(201).header('etag', `"${segment.version}"`).send(segmentView(segment));
    },
  );
}
