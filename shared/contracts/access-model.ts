import type { UserRole } from '../http/authenticate.ts';

/**
 * What a service must know of an SDK key to admit it without asking auth: published by auth through its outbox,
 * held in memory by every service that accepts keys. Only the key's SHA-256 (hex) travels, never the key.
 */
export interface SdkKeyRecord {
  id: string;
  hash: string;
  environment: string;
  kind: SdkKeyKind;
  revoked: boolean;
  /** The project whose flags it evaluates; absent in records published before projects (the default project). */
  project?: string;
}

/**
 * `server`: a secret of a backend, evaluates every flag. `client`: public by design (embedded in a web page or an
 * app), evaluates only the flags marked client-visible, through OFREP, and opens nothing else.
 */
export const sdkKeyKinds = ['server', 'client'] as const;
export type SdkKeyKind = (typeof sdkKeyKinds)[number];

/** A user's current standing, which outranks the role an access token was issued with. */
export interface UserAccess {
  id: string;
  role: UserRole;
  disabled: boolean;
  /** Roles granted by project membership; absent in records published before projects. */
  projects?: Record<string, UserRole>;
}
