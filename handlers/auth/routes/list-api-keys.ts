import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { principalOf, projectInQuery, projectOfRequest } from '../../../shared/http/authenticate.ts';
import { ProjectKey } from '../../../shared/contracts/project-model.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { apiKeyView } from '../auth-schemas.ts';
import { ApiKeySchema } from '../../../shared/contracts/auth-api.ts';

export function listApiKeys(app: App, { service, guard }: AuthRouteDeps): void {
  app.get(
    '/auth/api-keys',
    {
      onRequest: guard('editor', projectInQuery),
      schema: {
        tags: ['api-keys'],
        summary: "List a project's SDK keys (its editors; never their secrets)",
        description:
          "`?project=` names the project (default: `default`). Without it, an organisation admin gets every project's keys (each says its `project`): what the flags service checks before it deletes an environment.",
        security: bearerSecurity,
        querystring: Strict({
          // No default here: without it an organisation admin lists every project (the guard counts `default`).
          project: Type.Optional(ProjectKey),
          environment: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          includeRevoked: Type.Boolean({ default: false }),
        }),
        response: { 200: Type.Object({ items: Type.Array(ApiKeySchema) }), ...problemResponses },
      },
    },
    async (request) => {
      const everyProject = request.query.project === undefined && principalOf(request).role === 'admin';
      const project = everyProject ? undefined : projectOfRequest(request);
      return { items: (await service.listApiKeys({ ...request.query, project })).map(apiKeyView) };
    },
  );
}
