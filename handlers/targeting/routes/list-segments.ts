import { Type } from 'typebox';
import { projectOfRequest } from '../../../shared/http/authenticate.ts';
import { ProjectQuery } from '../../../shared/contracts/project-model.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { App } from '../../../shared/http/server.ts';
import type { TargetingRouteDeps } from './route-deps.ts';
import { SegmentSchema } from '../../../shared/contracts/targeting-api.ts';

export function listSegments(app: App, { service, guard, inProject }: TargetingRouteDeps): void {
  app.get(
    '/targeting/segments',
    {
      onRequest: guard('viewer', inProject.query),
      schema: {
        tags: ['segments'],
        summary: "Every segment of a project (the default project's without `project`)",
        security: bearerSecurity,
        querystring: Strict({ project: ProjectQuery }),
        response: { 200: Type.Object({ items: Type.Array(SegmentSchema) }), ...problemResponses },
      },
    },
    async (request) => ({ items: await service.listSegments(projectOfRequest(request)) }),
  );
}
