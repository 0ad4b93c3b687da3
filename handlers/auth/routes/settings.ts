import type { App } from '../../../shared/http/server.ts';
import { problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { AuthSettingsSchema } from '../../../shared/contracts/auth-api.ts';

export function settings(app: App, { service }: AuthRouteDeps): void {
  app.get(
    '/auth/settings',
    {
      schema: {
        tags: ['users'],
        summary: 'What a person who is not signed in may do here: whether self-registration is open, and to which e-mail domains',
        response: { 200: AuthSettingsSchema, ...problemResponses },
      },
    },
    async (_request, reply) => reply.header('cache-control', 'no-cache').send(service.settings()),
  );
}
