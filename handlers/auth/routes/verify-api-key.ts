import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, Uuid, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from '../auth-routes.ts';

export function verifyApiKey(app: App, { service }: AuthRouteDeps): void {
  app.post(
    '/auth/api-keys/verify',
    {
      schema: {
        tags: ['api-keys'],
        summary: 'Which environment an SDK key opens (used by the evaluation service; the key is the credential)',
        body: Strict({ key: Type.String({ minLength: 1, maxLength: 256 }) }),
        response: { 200: Type.Object({ keyId: Uuid, environment: Type.String(), name: Type.String() }), ...problemResponses },
      },
    },
    async (request) => service.verifyApiKey(request.body.key),
  );
}
