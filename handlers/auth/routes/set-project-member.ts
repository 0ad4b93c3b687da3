import type { App } from '../../../shared/http/server.ts';
import { callerCredential, RoleSchema } from '../../../shared/http/authenticate.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ProjectKey } from '../../../shared/contracts/project-model.ts';
import { ProjectMemberSchema } from '../../../shared/contracts/auth-api.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { memberView } from '../auth-schemas.ts';
import { projectInPath } from './project-scopes.ts';

export function setProjectMember(app: App, { service, guard }: AuthRouteDeps): void {
  app.put(
    '/auth/projects/:project/members/:userId',
    {
      onRequest: guard('admin', projectInPath),
      schema: {
        tags: ['projects'],
        summary: "Make a user a member of a project with a role, or change a member's role (the project's admins)",
        description:
          "Every service applies it within a second. 404 when the project or the user does not exist. In `default` a membership can only raise a role: there the account's role counts when it is higher.",
        security: bearerSecurity,
        params: Strict({ project: ProjectKey, userId: Uuid }),
        body: Strict({ role: RoleSchema }),
        response: { 200: ProjectMemberSchema, ...problemResponses },
      },
    },
    async (request) => {
      const { project, userId } = request.params;
      return memberView(await service.setProjectMember(project, userId, request.body.role, callerCredential(request)));
    },
  );
}
