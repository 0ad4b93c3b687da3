import type { App } from '../../../shared/http/server.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { MeSchema } from '../../../shared/contracts/auth-api.ts';

export function validate(app: App, { service, guard }: AuthRouteDeps): void {
  app.get(
    '/auth/validate',
    {
      onRequest: guard('viewer'),
      schema: {
        tags: ['users'],
        summary: 'Who the bearer token belongs to (the account must still be enabled)',
        security: bearerSecurity,
        response: { 200: MeSchema, ...problemResponses },
      },
    },
    async (request) => {
      const user = await service.validate(principalOf(request));
      return { sub: user.id, email: user.email, role: user.role, name: user.name };
    },
  );
}
