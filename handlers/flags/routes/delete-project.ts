import type { App } from '../../../shared/http/server.ts';
import { callerCredential } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ProjectKey } from '../../../shared/contracts/project-model.ts';
import { Type } from 'typebox';
import type { FlagRouteDeps } from './route-deps.ts';

export function deleteProject(app: App, { projects, guard }: FlagRouteDeps): void {
  app.delete(
    '/flags/projects/:project',
    {
      onRequest: guard('admin'),
      schema: {
        tags: ['projects'],
        summary: 'Delete an empty project (organisation admins)',
        description:
          'Refused (409, saying what is left) while it holds flags (archived ones too), webhooks, segments, live SDK keys or members; the default project is never deleted.',
        security: bearerSecurity,
        params: Strict({ project: ProjectKey }),
        response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await projects.delete(request.params.project, callerCredential(request));
      return reply.code(204).send(null);
    },
  );
}
