import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { AuthRouteDeps } from './route-deps.ts';
import { invitationView } from '../auth-schemas.ts';
import { InvitationSchema } from '../../../shared/contracts/auth-api.ts';

export function listInvitations(app: App, { service, guard }: AuthRouteDeps): void {
  app.get(
    '/auth/invitations',
    {
      onRequest: guard('admin'),
      schema: {
        tags: ['invitations'],
        summary: 'List the pending invitations, newest first (admin): not accepted, revoked or expired; never their tokens',
        security: bearerSecurity,
        response: { 200: Type.Object({ items: Type.Array(InvitationSchema) }), ...problemResponses },
      },
    },
    async () => ({ items: (await service.listInvitations()).map(invitationView) }),
  );
}
