import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { RoleSchema } from '../../../shared/http/authenticate.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { userView } from '../auth-schemas.ts';
import { UserSchema } from '../../../shared/contracts/auth-api.ts';

export function updateUser(app: App, { service, guard }: AuthRouteDeps): void {
  app.patch(
    '/auth/users/:id',
    {
      onRequest: guard('admin'),
      schema: {
        tags: ['users'],
        summary: "Change an account's role or disable it (admin); the last enabled admin stays",
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        body: Strict(
          { role: Type.Optional(RoleSchema), disabled: Type.Optional(Type.Boolean()) },
          { description: 'At least one field', minProperties: 1 },
        ),
        response: { 200: UserSchema, ...problemResponses },
      },
    },
    async (request) => userView(await service.updateUser(request.params.id, request.body)),
  );
}
