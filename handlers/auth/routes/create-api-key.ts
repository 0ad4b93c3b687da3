import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { callerCredential, principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { apiKeyView } from '../auth-schemas.ts';
import { CreatedApiKeySchema } from '../../../shared/contracts/auth-api.ts';
import { sdkKeyKinds } from '../../../shared/contracts/access-model.ts';

export function createApiKey(app: App, { service, guard }: AuthRouteDeps): void {
  app.post(
    '/auth/api-keys',
    {
      onRequest: guard('editor'),
      schema: {
        tags: ['api-keys'],
        summary: 'Create an SDK key for one environment; the secret is in this answer only',
        security: bearerSecurity,
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
      const created = await service.createApiKey(request.body, principalOf(request), callerCredential(request));
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...apiKeyView(created), key: created.key });
    },
  );
}
