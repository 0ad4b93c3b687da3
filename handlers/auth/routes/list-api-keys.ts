import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { apiKeyView } from '../auth-schemas.ts';
import { ApiKeySchema } from '../../../shared/contracts/auth-api.ts';

export function listApiKeys(app: App, { service, guard }: AuthRouteDeps): void {
  app.get(
    '/auth/api-keys',
    {
      onRequest: guard('editor'),
      schema: {
        tags: ['api-keys'],
        summary: 'List SDK keys (never their secrets)',
        security: bearerSecurity,
        querystring: Strict({
          environment: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          includeRevoked: Type.Boolean({ default: false }),
        }),
        response: { 200: Type.Object({ items: Type.Array(ApiKeySchema) }), ...problemResponses },
      },
    },
    async (request) => ({ items: (await service.listApiKeys(request.query)).map(apiKeyView) }),
  );
}
