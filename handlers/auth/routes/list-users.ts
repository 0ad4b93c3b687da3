import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, Cursor, Limit, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { userView } from '../auth-schemas.ts';
import { UserSchema } from '../../../shared/contracts/auth-api.ts';

export function listUsers(app: App, { service, guard }: AuthRouteDeps): void {
  app.get(
    '/auth/users',
    {
      onRequest: guard('admin'),
      schema: {
        tags: ['users'],
        summary: 'List accounts (admin)',
        security: bearerSecurity,
        querystring: Strict({ limit: Limit, cursor: Type.Optional(Cursor) }),
        response: {
          200: Type.Object({ items: Type.Array(UserSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const page = await service.listUsers({ limit: request.query.limit, after: request.query.cursor });
      return { items: page.items.map(userView), nextCursor: page.nextCursor };
    },
  );
}
