import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { principalOf, RoleSchema } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { invitationView } from '../auth-schemas.ts';
import { CreatedInvitationSchema } from '../../../shared/contracts/auth-api.ts';

export function createInvitation(app: App, { service, guard }: AuthRouteDeps): void {
  app.post(
    '/auth/invitations',
    {
      onRequest: guard('admin'),
      schema: {
        tags: ['invitations'],
        summary: 'Invite an e-mail address to join with a role (admin); the link is in this answer only',
        description:
          'The link works once, until `expiresAt` (INVITATION_TTL_HOURS), also when self-registration is off. A new invitation of the same address replaces its open ones. 409 when the address already has an account.',
        security: bearerSecurity,
        body: Strict({ email: Type.String({ format: 'email', maxLength: 254 }), role: RoleSchema }),
        response: { 201: CreatedInvitationSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const created = await service.createInvitation(request.body, principalOf(request));
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...invitationView(created), token: created.token, acceptUrl: created.acceptUrl });
    },
  );
}
