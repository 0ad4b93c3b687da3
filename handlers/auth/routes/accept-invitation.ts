import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { Credentials } from './register.ts';
import { userView } from '../auth-schemas.ts';
import { UserSchema } from '../../../shared/contracts/auth-api.ts';

export function acceptInvitation(app: App, { service }: AuthRouteDeps): void {
  app.post(
    '/auth/invitations/accept',
    {
      schema: {
        tags: ['invitations'],
        summary: "Accept an invitation: creates the invited account (the invitation's e-mail and role) with this password",
        description:
          'Works whether or not self-registration is on, once: 404 for an unknown token, 403 when it expired or was revoked, 409 when it was already used or the e-mail has an account meanwhile. Counted against the caller’s address like sign-up (429). Sign in afterwards.',
        body: Strict({
          token: Type.String({ minLength: 1, maxLength: 256, description: 'The token of the invitation link' }),
          password: Credentials.password,
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
        response: { 201: UserSchema, ...problemResponses },
      },
    },
    async (request, reply) => reply.code(201).send(userView(await service.acceptInvitation(request.body, request.ip))),
  );
}
