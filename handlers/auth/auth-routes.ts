import type { App } from '../../shared/http/server.ts';
import { requireRole, type TokenVerifier } from '../../shared/http/authenticate.ts';
import type { AuthService } from './auth-service.ts';
import type { SigningKeys } from './signing-keys.ts';
import { register } from './routes/register.ts';
import { login } from './routes/login.ts';
import { validate } from './routes/validate.ts';
import { jwks } from './routes/jwks.ts';
import { listUsers } from './routes/list-users.ts';
import { updateUser } from './routes/update-user.ts';
import { createApiKey } from './routes/create-api-key.ts';
import { listApiKeys } from './routes/list-api-keys.ts';
import { revokeApiKey } from './routes/revoke-api-key.ts';
import { settings } from './routes/settings.ts';
import { createInvitation } from './routes/create-invitation.ts';
import { listInvitations } from './routes/list-invitations.ts';
import { revokeInvitation } from './routes/revoke-invitation.ts';
import { acceptInvitation } from './routes/accept-invitation.ts';
import { listProjectMembers } from './routes/list-project-members.ts';
import { setProjectMember } from './routes/set-project-member.ts';
import { removeProjectMember } from './routes/remove-project-member.ts';
import type { AuthRouteDeps } from './routes/route-deps.ts';

export function authRoutes(service: AuthService, keys: SigningKeys, verifier: TokenVerifier) {
  const deps: AuthRouteDeps = { service, keys, guard: (minimum, projectOf) => requireRole(verifier, minimum, projectOf) };
  return (app: App) => {
    for (const route of [
      settings,
      register,
      login,
      validate,
      jwks,
      listUsers,
      updateUser,
      createApiKey,
      listApiKeys,
      revokeApiKey,
      createInvitation,
      listInvitations,
      revokeInvitation,
      acceptInvitation,
      listProjectMembers,
      setProjectMember,
      removeProjectMember,
    ])
      route(app, deps);
  };
}
