import type { PublicApiKey, PublicInvitation, PublicUser } from './auth-service.ts';
import type { ProjectMemberOf } from './auth-store.ts';

/** The answers' schemas are in shared/contracts/auth-api.ts; these turn the service's records into them. */
export const userView = (user: PublicUser) => ({
  ...user,
  createdAt: user.createdAt.toISOString(),
  updatedAt: user.updatedAt.toISOString(),
});
export const apiKeyView = (key: PublicApiKey) => ({
  ...key,
  createdAt: key.createdAt.toISOString(),
  revokedAt: key.revokedAt?.toISOString() ?? null,
});
export const invitationView = (invitation: PublicInvitation) => ({
  ...invitation,
  createdAt: invitation.createdAt.toISOString(),
  expiresAt: invitation.expiresAt.toISOString(),
});
/** The project is the route's: not repeated in each member. */
export const memberView = ({ project: _, ...member }: ProjectMemberOf) => ({
  ...member,
  createdAt: member.createdAt.toISOString(),
  updatedAt: member.updatedAt.toISOString(),
});
