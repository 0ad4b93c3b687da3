import type { App } from '../../../shared/http/server.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ProjectFields, ProjectSchema } from '../../../shared/contracts/flags-api.ts';
import { ProjectKey } from '../../../shared/contracts/project-model.ts';
import { Type } from 'typebox';
import { projectView } from '../projects/project-view.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function createProject(app: App, { projects, guard }: FlagRouteDeps): void {
  app.post(
    '/flags/projects',
    {
      onRequest: guard('admin'),
      schema: {
        tags: ['projects'],
        summary: 'Create a project (organisation admins); grant its roles with PUT /auth/projects/{project}/members/{userId}',
        security: bearerSecurity,
        body: Strict({ key: ProjectKey, name: ProjectFields.name, description: Type.Optional(ProjectFields.description) }),
        response: { 201: ProjectSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const { key, ...input } = request.body;
      const project = await projects.create(key, input);
      return reply
        .code(201)
        .header('location', `/flags/projects/${project.key}`)
        .header('etag', `"${project.version}"`)
        .send(projectView(project, 'admin'));
    },
  );
}
