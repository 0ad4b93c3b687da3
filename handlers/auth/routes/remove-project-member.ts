import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ProjectKey } from '../../../shared/contracts/project-model.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { projectInPath } from './project-scopes.ts';

export function removeProjectMember(app: App, { service, guard }: AuthRouteDeps): void {
  app.delete(
    '/auth/projects/:project/members/:userId',
    {
      onRequest: guard('admin', projectInPath),
      schema: {
        tags: ['projects'],
        summary: 'End a membership (the project’s admins); every service applies it within a second',
        description: '404 when the user is not a member. The account itself stays, with its role in `default`.',
        security: bearerSecurity,
        params: Strict({ project: ProjectKey, userId: Uuid }),
        response: { 204: Type.Null({ description: 'No longer a member' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await service.removeProjectMember(request.params.project, request.params.userId);
      return reply.code(204).send(null);
    },
  );
}
