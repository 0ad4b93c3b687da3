import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { callerCredential, principalOf, projectInQuery, projectOfRequest } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { apiKeyView } from '../auth-schemas.ts';
import { CreatedApiKeySchema } from '../../../shared/contracts/auth-api.ts';
import { sdkKeyKinds } from '../../../shared/contracts/access-model.ts';
import { ProjectQuery } from '../../../shared/contracts/project-model.ts';

export function createApiKey(app: App, { service, guard }: AuthRouteDeps): void {
  app.post(
    '/auth/api-keys',
    {
      onRequest: guard('editor', projectInQuery),
      schema: {
        tags: ['api-keys'],
        summary: 'Create an SDK key for one environment of a project (its editors); the secret is in this answer only',
        description: 'The key evaluates the flags of `?project=` (default: `default`) only. 404 when there is no such project.',
        security: bearerSecurity,
        querystring: Strict({ project: ProjectQuery }),
        body: Strict({
          environment: Type.String({ minLength: 1, maxLength: 64 }),
          name: Type.String({ minLength: 1, maxLength: 200 }),
          kind: Type.Optional(
            Type.Enum([...sdkKeyKinds], {
              description: 'Default `server`. A `client` key may be public: it evaluates only client-visible flags',
            }),
          ),
        }),
        response: { 201: CreatedApiKeySchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const created = await service.createApiKey(
        { ...request.body, project: projectOfRequest(request) },
        principalOf(request),
        callerCredential(request),
      );
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...apiKeyView(created), key: created.key });
    },
  );
}
