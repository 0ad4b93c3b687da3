import type { App } from '../../../shared/http/server.ts';
import type { AuthRouteDeps } from './route-deps.ts';

export function jwks(app: App, { keys }: AuthRouteDeps): void {
  app.get(
    '/auth/.well-known/jwks.json',
    { schema: { tags: ['keys'], summary: 'The public keys that verify access tokens (JWKS)' } },
    async (_request, reply) => reply.header('cache-control', 'public, max-age=300').send(keys.jwks),
  );
}
