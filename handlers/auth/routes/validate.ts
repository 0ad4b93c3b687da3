import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { RoleSchema, principalOf } from '../../../shared/http/authenticate.ts';
import { bearerSecurity, problemResponses, Uuid } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';

export function validate(app: App, { service, guard }: AuthRouteDeps): void {
  app.get(
    '/auth/validate',
    {
      onRequest: guard('viewer'),
      schema: {
        tags: ['users'],
        summary: 'Who the bearer token belongs to (the account must still be enabled)',
        security: bearerSecurity,
        response: { 200: Type.Object({ sub: Uuid, email: Type.String(), role: RoleSchema, name: Type.Union([Type.String(), Type.Null()]) }), ...problemResponses },
      },
    },
    async (request) => {
      const user = await service.validate(principalOf(request));
      return { sub: user.id, email: user.email, role: user.role, name: user.name };
    },
  );
}
