import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';

export const Credentials = {
  email: Type.String({ format: 'email', maxLength: 254 }),
  password: Type.String({ minLength: 12, maxLength: 256, description: 'At least 12 characters' }),
};

/** One answer whether or not the email already had an account, so registering cannot be used to find out. */
export const registrationAnswer = {
  message:
    'If this email had no account, it has one now (a viewer): sign in with this email and password. An existing account is left unchanged.',
};

export function register(app: App, { service }: AuthRouteDeps): void {
  app.post(
    '/auth/register',
    {
      schema: {
        tags: ['users'],
        summary: 'Create an account (always a viewer; an admin raises roles)',
        description:
          'Answers 202 with the same body whether or not the email already had an account (that account is left unchanged); sign in to find out whether the password is yours.',
        body: Strict({ ...Credentials, name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
        response: { 202: Type.Object({ message: Type.String() }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await service.register(request.body, request.ip);
      return reply.code(202).send(registrationAnswer);
    },
  );
}
