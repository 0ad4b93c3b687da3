import type { SdkKeyKind } from '../../shared/contracts/access-model.ts';
import type { UserRole } from '../../shared/http/authenticate.ts';

export interface User {
  id: string;
  email: string;
  name: string | null;
  role: UserRole;
  disabled: boolean;
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface ApiKey {
  id: string;
  name: string;
  /** The project whose flags it evaluates. */
  project: string;
  environment: string;
  kind: SdkKeyKind;
  /** The first characters of the secret, so people can tell keys apart; the rest exists only as a hash. */
  prefix: string;
  keyHash: string;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
}

/** A person's role in one project, granted by a project's admin (or the organisation's). */
export interface ProjectMember {
  project: string;
  userId: string;
  role: UserRole;
  createdAt: Date;
  updatedAt: Date;
}

/** A membership as a project's admins list it: with the person's e-mail and name. */
export interface ProjectMemberOf extends ProjectMember {
  email: string;
  name: string | null;
}

/** An admin's invitation of one e-mail address to join with a role; the token exists only as its SHA-256. */
export interface Invitation {
  id: string;
  email: string;
  role: UserRole;
  tokenHash: string;
  invitedBy: string;
  createdAt: Date;
  expiresAt: Date;
  acceptedAt: Date | null;
  /** The account its acceptance created. */
  acceptedUserId: string | null;
  revokedAt: Date | null;
}

/** Why an invitation cannot be accepted (or revoked) now. */
export type InvitationRefusal = 'not-found' | 'accepted' | 'revoked' | 'expired' | 'email-taken';

/** Why an invitation cannot be used at `at`, or undefined when it can (one rule for both stores). */
export function invitationRefusal(invitation: Invitation | undefined, at: Date): InvitationRefusal | undefined {
  if (!invitation) return 'not-found';
  if (invitation.acceptedAt) return 'accepted';
  if (invitation.revokedAt) return 'revoked';
  if (invitation.expiresAt.getTime() <= at.getTime()) return 'expired';
  return undefined;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * What the auth service keeps; PostgreSQL in production, a map in unit tests, built by one factory. Every write
 * that changes who may call the platform (a user's role, standing or memberships, an SDK key) also writes an outbox row in the
 * same transaction, which the access publisher relays to every service.
 */
export interface AuthStore {
  /** Inserts the user; false when the email is taken (the check and the insert are one atomic step). */
  insertUser(user: User): Promise<boolean>;
  findUserByEmail(email: string): Promise<User | undefined>;
  findUserById(id: string): Promise<User | undefined>;
  listUsers(options: { limit: number; after?: string | undefined }): Promise<Page<User>>;
  /** Applies the change unless it would leave no enabled admin; returns the updated user or why not. */
  updateUser(
    id: string,
    change: { role?: UserRole | undefined; disabled?: boolean | undefined },
  ): Promise<User | 'not-found' | 'last-admin'>;
  countUsers(): Promise<number>;

  insertApiKey(key: ApiKey): Promise<void>;
  /** Without `project`: the keys of every project. */
  listApiKeys(options: { project?: string | undefined; environment?: string | undefined; includeRevoked: boolean }): Promise<ApiKey[]>;
  findApiKeyById(id: string): Promise<ApiKey | undefined>;
  /** Marks the key revoked; false when there is no such key. Revoking twice is not an error. */
  revokeApiKey(id: string, at: Date): Promise<boolean>;

  /** A project's members, by e-mail. */
  listProjectMembers(project: string): Promise<ProjectMemberOf[]>;
  /** Grants `role` in the project (or changes the role of a member); 'user-not-found' when there is no such user. */
  setProjectMember(project: string, userId: string, role: UserRole, at: Date): Promise<ProjectMemberOf | 'user-not-found'>;
  /** Ends a membership; false when the user was not a member. */
  removeProjectMember(project: string, userId: string): Promise<boolean>;
  /** The roles these users hold by membership, project by project (a user with none is absent). */
  projectRolesOf(userIds: readonly string[]): Promise<Map<string, Record<string, UserRole>>>;

  /** Inserts the invitation and revokes the other open invitations of the same e-mail (the newest link is the one that works). */
  insertInvitation(invitation: Invitation): Promise<void>;
  findInvitationByTokenHash(tokenHash: string): Promise<Invitation | undefined>;
  /** Invitations neither accepted nor revoked nor expired at `at`, newest first. */
  listPendingInvitations(at: Date): Promise<Invitation[]>;
  /** Marks it revoked (revoking twice is not an error); an accepted invitation stays as it is. */
  revokeInvitation(id: string, at: Date): Promise<Invitation | 'not-found' | 'accepted'>;
  /**
   * Consumes the invitation with this token hash and creates its account (the invitation's e-mail and role), as one
   * atomic step: of two acceptances at once, one creates the account and the other is refused 'accepted'. Nothing
   * changes when it is refused.
   */
  acceptInvitation(
    tokenHash: string,
    account: { id: string; name: string | null; passwordHash: string },
    at: Date,
  ): Promise<{ user: User; invitation: Invitation } | InvitationRefusal>;
}
