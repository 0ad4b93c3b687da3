import { hash, randomBytes, randomUUID } from 'node:crypto';
import { hashSdkKey } from '../../shared/http/sdk-keys.ts';
import { AppError } from '../../shared/http/problem.ts';
import type { Principal, UserRole } from '../../shared/http/authenticate.ts';
import type { Credential } from '../../shared/clients/service-client.ts';
import type { SdkKeyKind } from '../../shared/contracts/access-model.ts';
import { defaultProject } from '../../shared/contracts/project-model.ts';
import {
  invitationRefusal,
  type ApiKey,
  type AuthStore,
  type Invitation,
  type InvitationRefusal,
  type Page,
  type ProjectMemberOf,
  type User,
} from './auth-store.ts';
import type { LoginLimiter } from './login-limiter.ts';
import type { SigningKeys } from './signing-keys.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

export interface AuthServiceDeps {
  store: AuthStore;
  keys: SigningKeys;
  limiter: LoginLimiter;
  decoyHash: string;
  /** The environments there are (the flags service owns them), asked with the caller's credential. */
  environments: (credential: Credential) => Promise<readonly string[]>;
  /** The project, if there is one the caller may see (the flags service owns them), asked with the caller's credential. */
  findProject: (key: string, credential: Credential) => Promise<{ key: string } | undefined>;
  token: { issuer: string; audience: string; ttlSeconds: number };
  /** SELF_REGISTRATION and SELF_REGISTRATION_DOMAINS (empty: any domain). */
  registration: { selfRegistration: 'off' | 'on'; domains: readonly string[] };
  /** INVITATION_TTL_HOURS, and CONSOLE_URL (the console's public origin) for absolute links. */
  invitations: { ttlHours: number; consoleUrl?: string | undefined };
  now?: () => Date;
}

export type PublicUser = Omit<User, 'passwordHash'>;
export type PublicApiKey = Omit<ApiKey, 'keyHash'>;
export type PublicInvitation = Pick<Invitation, 'id' | 'email' | 'role' | 'invitedBy' | 'createdAt' | 'expiresAt'>;

const normalizeEmail = (email: string) => email.trim().toLowerCase();
const publicUser = ({ passwordHash: _, ...user }: User): PublicUser => user;
const publicApiKey = ({ keyHash: _, ...key }: ApiKey): PublicApiKey => key;

const publicInvitation = ({ id, email, role, invitedBy, createdAt, expiresAt }: Invitation): PublicInvitation => ({
  id,
  email,
  role,
  invitedBy,
  createdAt,
  expiresAt,
});

const apiKeyPrefixLength = 11;

/** Invitation tokens are stored as their SHA-256 (hex), like SDK keys: 256 random bits need no slow hash. */
export const hashInvitationToken = (token: string): string => hash('sha256', token, 'hex');

/** Where the console shows an invitation (its router's base is /console): the invitee's way in. */
export const invitationAcceptPath = '/console/invitations/accept';

/** Why an invitation cannot be accepted, as a person reads it. */
const invitationRefused: Record<InvitationRefusal, () => AppError> = {
  'not-found': () =>
    new AppError('NOT_FOUND', 'This invitation link is not valid: check that it was copied whole, or ask an administrator for a new one'),
  accepted: () =>
    new AppError('CONFLICT', 'This invitation was already used: sign in with its e-mail address, or ask an administrator for a new one'),
  revoked: () => new AppError('FORBIDDEN', 'This invitation was withdrawn by an administrator: ask them for a new one'),
  expired: () => new AppError('FORBIDDEN', 'This invitation has expired: ask an administrator for a new one'),
  'email-taken': () => new AppError('CONFLICT', 'An account with this e-mail address already exists: sign in instead'),
};

export function createAuthService(deps: AuthServiceDeps) {
  const { store, keys, limiter } = deps;
  const now = deps.now ?? (() => new Date());

  async function createUser(input: { email: string; password: string; name?: string | undefined; role: UserRole }): Promise<PublicUser> {
    const at = now();
    const user: User = {
      id: randomUUID(),
      email: normalizeEmail(input.email),
      name: input.name ?? null,
      role: input.role,
      disabled: false,
      passwordHash: await hashPassword(input.password),
      createdAt: at,
      updatedAt: at,
    };
    if (!(await store.insertUser(user))) throw new AppError('CONFLICT', 'A user with this email already exists');
    return publicUser(user);
  }

  async function assertEnvironment(environment: string, credential: Credential): Promise<void> {
    const environments = await deps.environments(credential);
    if (!environments.includes(environment)) {
      throw new AppError('VALIDATION_FAILED', `Unknown environment "${environment}"; known: ${environments.join(', ')}`, {
        errors: [{ path: 'body/environment', message: `must be one of ${environments.join(', ')}` }],
      });
    }
  }

  /** 404 unless the project exists; `default` always does (it cannot be deleted), so the flags service is not asked. */
  async function assertProject(project: string, credential: Credential): Promise<void> {
    if (project === defaultProject) return;
    if (!(await deps.findProject(project, credential))) throw new AppError('NOT_FOUND', `No project "${project}"`);
  }

  const allowedDomains = deps.registration.domains.map((d) => d.toLowerCase());

  /** Refuses a registration the settings do not allow; says nothing about whether the e-mail has an account. */
  function assertMayRegister(email: string): void {
    if (deps.registration.selfRegistration !== 'on')
      throw new AppError('FORBIDDEN', 'Self-registration is turned off on this server: ask an administrator for an invitation');
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (allowedDomains.length > 0 && !allowedDomains.includes(domain)) {
      const list = allowedDomains.map((d) => `@${d}`).join(', ');
      throw new AppError('FORBIDDEN', `Self-registration is open to ${list} addresses only: ask an administrator for an invitation`, {
        errors: [{ path: 'body/email', message: `must be an address at ${allowedDomains.join(', ')}` }],
      });
    }
  }

  function acceptUrl(token: string): string {
    const path = `${invitationAcceptPath}?token=${encodeURIComponent(token)}`;
    const origin = deps.invitations.consoleUrl?.replace(/\/+$/, '');
    return origin ? `${origin}${path}` : path;
  }

  return {
    /** What the sign-in page may offer, before anyone signs in. */
    settings() {
      return { selfRegistration: deps.registration.selfRegistration === 'on', selfRegistrationDomains: allowedDomains };
    },

    /**
     * Self-registration always makes a viewer; only an admin can raise a role. A taken email ends the same way as a
     * free one, after the same work (the password is hashed before the insert finds the conflict), and the existing
     * account is left alone: the answer must not tell a stranger which emails have accounts.
     */
    async register(input: { email: string; password: string; name?: string | undefined }, address: string): Promise<void> {
      assertMayRegister(normalizeEmail(input.email));
      await limiter.admitAddress(address);
      try {
        await createUser({ ...input, role: 'viewer' });
      } catch (error) {
        if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
      }
    },

    /** Creates the first admin from ADMIN_EMAIL/ADMIN_PASSWORD once; an existing account is never touched. */
    async bootstrapAdmin(email: string, password: string): Promise<'created' | 'exists'> {
      if (await store.findUserByEmail(normalizeEmail(email))) return 'exists';
      try {
        await createUser({ email, password, role: 'admin', name: 'Administrator' });
        return 'created';
      } catch (error) {
        // Another replica created it between our look-up and insert.
        if (error instanceof AppError && error.code === 'CONFLICT') return 'exists';
        throw error;
      }
    },

    async login(input: { email: string; password: string }, address: string) {
      const email = normalizeEmail(input.email);
      await limiter.admitAddress(address);
      await limiter.admitSignIn(email, address);
      const user = await store.findUserByEmail(email);
      // Unknown users are checked against a decoy hash so both failures cost the same time and read the same.
      const valid = await verifyPassword(user?.passwordHash ?? deps.decoyHash, input.password);
      if (!user || !valid) {
        await limiter.recordFailure(email);
        throw new AppError('INVALID_CREDENTIALS', 'The email or password is not correct');
      }
      if (user.disabled) throw new AppError('FORBIDDEN', 'This account is disabled; ask an administrator');
      await limiter.recordSuccess(email, address);
      const accessToken = await keys.sign({ userId: user.id, email: user.email, role: user.role }, deps.token);
      return { accessToken, tokenType: 'Bearer' as const, expiresIn: deps.token.ttlSeconds };
    },

    /** Beyond the signature (checked by the caller), the account must still exist and be enabled. */
    async validate(principal: Principal): Promise<PublicUser> {
      const user = await store.findUserById(principal.userId);
      if (!user || user.disabled) throw new AppError('UNAUTHENTICATED', 'The account behind this token no longer exists or is disabled');
      return publicUser(user);
    },

    async listUsers(options: { limit: number; after?: string | undefined }): Promise<Page<PublicUser>> {
      const page = await store.listUsers(options);
      return { items: page.items.map(publicUser), nextCursor: page.nextCursor };
    },

    async updateUser(id: string, change: { role?: UserRole | undefined; disabled?: boolean | undefined }): Promise<PublicUser> {
      const result = await store.updateUser(id, change);
      if (result === 'not-found') throw new AppError('NOT_FOUND', `No user with id ${id}`);
      if (result === 'last-admin') throw new AppError('CONFLICT', 'This would leave no enabled admin');
      return publicUser(result);
    },

    async createApiKey(
      input: { project: string; environment: string; name: string; kind?: SdkKeyKind | undefined },
      createdBy: Principal,
      credential: Credential,
    ): Promise<PublicApiKey & { key: string }> {
      await assertProject(input.project, credential);
      await assertEnvironment(input.environment, credential);
      const kind = input.kind ?? 'server';
      // A client key says what it is at a glance (it will sit in page source); a server key must never.
      const key = `${kind === 'client' ? 'tmc' : 'tm'}_${randomBytes(24).toString('base64url')}`;
      const record: ApiKey = {
        id: randomUUID(),
        name: input.name,
        project: input.project,
        environment: input.environment,
        kind,
        prefix: key.slice(0, apiKeyPrefixLength),
        keyHash: hashSdkKey(key),
        createdBy: createdBy.userId,
        createdAt: now(),
        revokedAt: null,
      };
      await store.insertApiKey(record);
      return { ...publicApiKey(record), key };
    },

    /** Without `project`, every project's keys (for the organisation's admins). */
    async listApiKeys(options: {
      project?: string | undefined;
      environment?: string | undefined;
      includeRevoked: boolean;
    }): Promise<PublicApiKey[]> {
      return (await store.listApiKeys(options)).map(publicApiKey);
    },

    /** The project of the key (what its routes are guarded by); undefined when there is no such key. */
    async projectOfApiKey(id: string): Promise<string | undefined> {
      return (await store.findApiKeyById(id))?.project;
    },

    async revokeApiKey(id: string): Promise<void> {
      if (!(await store.revokeApiKey(id, now()))) throw new AppError('NOT_FOUND', `No API key with id ${id}`);
    },

    async listProjectMembers(project: string): Promise<ProjectMemberOf[]> {
      return store.listProjectMembers(project);
    },

    /**
     * Grants a user a role in a project, or changes it (a disabled user may be a member: they still cannot sign in).
     * Every service sees the change within a second, through the user's access record.
     */
    async setProjectMember(project: string, userId: string, role: UserRole, credential: Credential): Promise<ProjectMemberOf> {
      await assertProject(project, credential);
      const member = await store.setProjectMember(project, userId, role, now());
      if (member === 'user-not-found') throw new AppError('NOT_FOUND', `No user with id ${userId}`);
      return member;
    },

    async removeProjectMember(project: string, userId: string): Promise<void> {
      if (!(await store.removeProjectMember(project, userId)))
        throw new AppError('NOT_FOUND', `User ${userId} is not a member of project "${project}"`);
    },

    /**
     * Invites an e-mail address to join with a role: the token is in this answer only (stored as a hash), works once,
     * and until INVITATION_TTL_HOURS from now. A newer invitation of the same address replaces the open ones.
     */
    async createInvitation(
      input: { email: string; role: UserRole },
      invitedBy: Principal,
    ): Promise<PublicInvitation & { token: string; acceptUrl: string }> {
      const email = normalizeEmail(input.email);
      if (await store.findUserByEmail(email)) throw new AppError('CONFLICT', `${email} already has an account`);
      const token = `tmi_${randomBytes(32).toString('base64url')}`;
      const at = now();
      const invitation: Invitation = {
        id: randomUUID(),
        email,
        role: input.role,
        tokenHash: hashInvitationToken(token),
        invitedBy: invitedBy.userId,
        createdAt: at,
        expiresAt: new Date(at.getTime() + deps.invitations.ttlHours * 3_600_000),
        acceptedAt: null,
        acceptedUserId: null,
        revokedAt: null,
      };
      await store.insertInvitation(invitation);
      return { ...publicInvitation(invitation), token, acceptUrl: acceptUrl(token) };
    },

    async listInvitations(): Promise<PublicInvitation[]> {
      return (await store.listPendingInvitations(now())).map(publicInvitation);
    },

    async revokeInvitation(id: string): Promise<void> {
      const result = await store.revokeInvitation(id, now());
      if (result === 'not-found') throw new AppError('NOT_FOUND', `No invitation with id ${id}`);
      if (result === 'accepted')
        throw new AppError('CONFLICT', 'This invitation was already accepted: disable the account on the users page instead');
    },

    /**
     * Creates the invited account (the invitation's e-mail and role) with this password, whether or not
     * self-registration is on, and uses the invitation up. Counted against the caller's address like sign-up. The
     * link is checked before the password is hashed, so a wrong token costs no Argon2 work; the store's conditional
     * update then makes it single use, also when two acceptances race.
     */
    async acceptInvitation(input: { token: string; password: string; name?: string | undefined }, address: string): Promise<PublicUser> {
      await limiter.admitAddress(address);
      const tokenHash = hashInvitationToken(input.token);
      const at = now();
      const refusal = invitationRefusal(await store.findInvitationByTokenHash(tokenHash), at);
      if (refusal) throw invitationRefused[refusal]();
      const passwordHash = await hashPassword(input.password);
      const result = await store.acceptInvitation(tokenHash, { id: randomUUID(), name: input.name ?? null, passwordHash }, now());
      if (typeof result === 'string') throw invitationRefused[result]();
      return publicUser(result.user);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
