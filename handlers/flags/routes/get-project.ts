import type { App } from '../../../shared/http/server.ts';
import { principalOf, roleIn } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ProjectSchema } from '../../../shared/contracts/flags-api.ts';
import { ProjectKey } from '../../../shared/contracts/project-model.ts';
import { projectView } from '../projects/project-view.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function getProject(app: App, { projects, guard, inProject }: FlagRouteDeps): void {
  app.get(
    '/flags/projects/:project',
    {
      onRequest: guard('viewer', inProject.project),
      schema: {
        tags: ['projects'],
        summary: 'A project you hold a role in, with your role; the ETag is its version',
        security: bearerSecurity,
        params: Strict({ project: ProjectKey }),
        response: { 200: ProjectSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const project = await projects.get(request.params.project);
      return reply.header('etag', `"${project.version}"`).send(projectView(project, roleIn(principalOf(request), project.key)));
    },
  );
}
