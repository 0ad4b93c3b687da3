import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ProjectSchema } from '../../../shared/contracts/flags-api.ts';
import { projectView } from '../projects/project-view.ts';
import type { FlagRouteDeps } from './route-deps.ts';

export function listProjects(app: App, { projects, guard }: FlagRouteDeps): void {
  app.get(
    '/flags/projects',
    {
      onRequest: guard('viewer'),
      schema: {
        tags: ['projects'],
        summary: 'The projects you hold a role in (every project, for an organisation admin), by key, each with your role',
        security: bearerSecurity,
        response: { 200: Type.Object({ items: Type.Array(ProjectSchema) }), ...problemResponses },
      },
    },
    async (request) => ({
      items: (await projects.listFor(principalOf(request))).map(({ project, role }) => projectView(project, role)),
    }),
  );
}
