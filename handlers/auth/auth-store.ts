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
  environment: string;
  kind: SdkKeyKind;
  /** The first characters of the secret, so people can tell keys apart; the rest exists only as a hash. */
  prefix: string;
  keyHash: string;
  createdBy: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * What the auth service keeps; PostgreSQL in production, a map in unit tests, built by one factory. Every write
 * that changes who may call the platform (a user's role or standing, an SDK key) also writes an outbox row in the
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
  listApiKeys(options: { environment?: string | undefined; includeRevoked: boolean }): Promise<ApiKey[]>;
  findApiKeyById(id: string): Promise<ApiKey | undefined>;
  /** Marks the key revoked; false when there is no such key. Revoking twice is not an error. */
  revokeApiKey(id: string, at: Date): Promise<boolean>;
}
