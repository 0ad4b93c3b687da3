import { randomBytes, randomUUID } from 'node:crypto';
import { hashSdkKey } from '../../shared/http/sdk-keys.ts';
import { AppError } from '../../shared/http/problem.ts';
import type { Principal, UserRole } from '../../shared/http/authenticate.ts';
import type { SdkKeyKind } from '../../shared/contracts/access-model.ts';
import type { ApiKey, AuthStore, Page, User } from './auth-store.ts';
import type { LoginLimiter } from './login-limiter.ts';
import type { SigningKeys } from './signing-keys.ts';
import { hashPassword, verifyPassword } from './passwords.ts';

export interface AuthServiceDeps {
  store: AuthStore;
  keys: SigningKeys;
  limiter: LoginLimiter;
  decoyHash: string;
  environments: readonly string[];
  token: { issuer: string; audience: string; ttlSeconds: number };
  now?: () => Date;
}

export type PublicUser = Omit<User, 'passwordHash'>;
export type PublicApiKey = Omit<ApiKey, 'keyHash'>;

const normalizeEmail = (email: string) => email.trim().toLowerCase();
const publicUser = ({ passwordHash: _, ...user }: User): PublicUser => user;
const publicApiKey = ({ keyHash: _, ...key }: ApiKey): PublicApiKey => key;

const apiKeyPrefixLength = 11;

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

  function assertEnvironment(environment: string): void {
    if (!deps.environments.includes(environment)) {
      throw new AppError('VALIDATION_FAILED', `Unknown environment "${environment}"; known: ${deps.environments.join(', ')}`, {
        errors: [{ path: 'body/environment', message: `must be one of ${deps.environments.join(', ')}` }],
      });
    }
  }

  return {
    /**
     * Self-registration always makes a viewer; only an admin can raise a role. A taken email ends the same way as a
     * free one, after the same work (the password is hashed before the insert finds the conflict), and the existing
     * account is left alone: the answer must not tell a stranger which emails have accounts.
     */
    async register(input: { email: string; password: string; name?: string | undefined }, address: string): Promise<void> {
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
      input: { environment: string; name: string; kind?: SdkKeyKind | undefined },
      createdBy: Principal,
    ): Promise<PublicApiKey & { key: string }> {
      assertEnvironment(input.environment);
      const kind = input.kind ?? 'server';
      // A client key says what it is at a glance (it will sit in page source); a server key must never.
      const key = `${kind === 'client' ? 'tmc' : 'tm'}_${randomBytes(24).toString('base64url')}`;
      const record: ApiKey = {
        id: randomUUID(),
        name: input.name,
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

    async listApiKeys(options: { environment?: string | undefined; includeRevoked: boolean }): Promise<PublicApiKey[]> {
      return (await store.listApiKeys(options)).map(publicApiKey);
    },

    async revokeApiKey(id: string): Promise<void> {
      if (!(await store.revokeApiKey(id, now()))) throw new AppError('NOT_FOUND', `No API key with id ${id}`);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
