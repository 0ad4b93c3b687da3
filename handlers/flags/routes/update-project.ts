import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { principalOf, roleIn } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ProjectFields, ProjectSchema } from '../../../shared/contracts/flags-api.ts';
import { ProjectKey } from '../../../shared/contracts/project-model.ts';
import { projectView } from '../projects/project-view.ts';
import { IfMatchHeaders } from '../flag-schemas.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function updateProject(app: App, { projects, guard, inProject }: FlagRouteDeps): void {
  app.patch(
    '/flags/projects/:project',
    {
      onRequest: guard('admin', inProject.project),
      schema: {
        tags: ['projects'],
        summary: 'Rename a project or change its description (its admins)',
        security: bearerSecurity,
        params: Strict({ project: ProjectKey }),
        headers: IfMatchHeaders,
        body: Strict(
          { name: Type.Optional(ProjectFields.name), description: Type.Optional(ProjectFields.description) },
          { minProperties: 1, description: 'At least one field' },
        ),
        response: { 200: ProjectSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const project = await projects.update(request.params.project, request.body, request.headers['if-match']);
      return reply.header('etag', `"${project.version}"`).send(projectView(project, roleIn(principalOf(request), project.key)));
    },
  );
}
