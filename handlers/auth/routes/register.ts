import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from '../auth-routes.ts';
import { userView, UserSchema } from '../auth-schemas.ts';

export const Credentials = {
  email: Type.String({ format: 'email', maxLength: 254 }),
  password: Type.String({ minLength: 12, maxLength: 256, description: 'At least 12 characters' }),
};

export function register(app: App, { service }: AuthRouteDeps): void {
  app.post(
    '/auth/register',
    {
      schema: {
        tags: ['users'],
        summary: 'Create an account (always a viewer; an admin raises roles)',
        body: Strict({ ...Credentials, name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
        response: { 201: UserSchema, ...problemResponses },
      },
    },
    async (request, reply) => reply.code(201).send(userView(await service.register(request.body, request.ip))),
  );
}
