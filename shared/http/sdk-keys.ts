import { hash } from 'node:crypto';
import type { AccessReplica } from '../access/access-replica.ts';
import type { SdkKeyKind } from '../contracts/access-model.ts';
import { AppError } from './problem.ts';
import { defaultProject } from '../contracts/project-model.ts';

export interface SdkKeyGrant {
  keyId: string;
  environment: string;
  kind: SdkKeyKind;
  /** The only project whose flags the key evaluates. */
  project: string;
}

/** Who presents a key: the connection it came on (to skip re-hashing a key it already proved) and its address. */
export interface SdkKeyClient {
  connection?: object;
  address?: string;
}

export interface SdkKeyVerifier {
  /** The key's grant, decided from memory; throws 401 (unknown or revoked), 429 (too many bad keys) or 503 (not loaded yet). */
  verify(key: string, client?: SdkKeyClient): SdkKeyGrant;
}

/** SDK keys are stored and published as their SHA-256 (hex): 192 random bits need no slow hash. */
export const hashSdkKey = (key: string): string => hash('sha256', key, 'hex');

export interface BadKeyLimits {
  /** Unknown or revoked keys one address may present per window before it is answered 429. */
  maxBadKeys: number;
  windowMs: number;
}

const defaultBadKeyLimits: BadKeyLimits = { maxBadKeys: 20, windowMs: 10_000 };
/** Addresses tracked at once; past it the oldest windows are forgotten (bounded memory under a flood). */
const maxTrackedAddresses = 10_000;

/**
 * Admits SDK keys from this process's access replica: no call to auth on the request path, so evaluation keeps
 * answering while auth is down, and a revocation takes effect as soon as the replica hears of it. An address that
 * keeps presenting bad keys is answered 429 with Retry-After (per process: it costs the caller, not us).
 */
export function createSdkKeyVerifier(options: {
  access: Pick<AccessReplica, 'sdkKey' | 'loaded'>;
  limits?: BadKeyLimits;
  now?: () => number;
}): SdkKeyVerifier {
  const { access } = options;
  const limits = options.limits ?? defaultBadKeyLimits;
  const now = options.now ?? Date.now;
  // The hash of the last key a connection sent, held only as long as that connection: keep-alive requests re-send it.
  const hashByConnection = new WeakMap<object, { key: string; hash: string }>();
  const badKeys = new Map<string, { count: number; since: number }>();

  function hashOf(key: string, connection: object | undefined): string {
    const last = connection && hashByConnection.get(connection);
    if (last && last.key === key) return last.hash;
    const digest = hashSdkKey(key);
    if (connection) hashByConnection.set(connection, { key, hash: digest });
    return digest;
  }

  function refuse(address: string | undefined, detail: string): never {
    if (address === undefined) throw new AppError('UNAUTHENTICATED', detail);
    const at = now();
    let window = badKeys.get(address);
    if (!window || at - window.since >= limits.windowMs) {
      if (!window && badKeys.size >= maxTrackedAddresses) badKeys.delete(badKeys.keys().next().value as string);
      window = { count: 0, since: at };
      badKeys.set(address, window);
    }
    window.count += 1;
    if (window.count > limits.maxBadKeys) {
      const retryAfter = Math.max(1, Math.ceil((window.since + limits.windowMs - at) / 1000));
      throw new AppError('RATE_LIMITED', 'Too many invalid API keys from this address; slow down', {
        headers: { 'retry-after': String(retryAfter) },
      });
    }
    throw new AppError('UNAUTHENTICATED', detail);
  }

  return {
    verify(key, client = {}) {
      const record = access.sdkKey(hashOf(key, client.connection));
      if (!record) {
        // Before the first load an unknown key proves nothing: a transient state, not a refusal.
        if (!access.loaded)
          throw new AppError('SERVICE_UNAVAILABLE', 'API keys are not loaded yet; retry shortly', { headers: { 'retry-after': '1' } });
        refuse(client.address, 'The API key is not valid or was revoked');
      }
      if (record.revoked) refuse(client.address, 'The API key was revoked');
      return { keyId: record.id, environment: record.environment, kind: record.kind, project: record.project ?? defaultProject };
    },
  };
}
