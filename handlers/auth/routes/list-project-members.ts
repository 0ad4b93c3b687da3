import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ProjectKey } from '../../../shared/contracts/project-model.ts';
import { ProjectMemberSchema } from '../../../shared/contracts/auth-api.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { memberView } from '../auth-schemas.ts';
import { projectInPath } from './project-scopes.ts';

export function listProjectMembers(app: App, { service, guard }: AuthRouteDeps): void {
  app.get(
    '/auth/projects/:project/members',
    {
      onRequest: guard('admin', projectInPath),
      schema: {
        tags: ['projects'],
        summary: "A project's members and their roles, by e-mail (the project's admins, and the organisation's)",
        description:
          "Membership grants a role in a project; the organisation's admins (account role `admin`) hold every project without one, and the account's role is also its holder's role in `default`.",
        security: bearerSecurity,
        params: Strict({ project: ProjectKey }),
        response: { 200: Type.Object({ items: Type.Array(ProjectMemberSchema) }), ...problemResponses },
      },
    },
    async (request) => ({ items: (await service.listProjectMembers(request.params.project)).map(memberView) }),
  );
}
