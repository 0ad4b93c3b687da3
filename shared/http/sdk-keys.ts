import { hash } from 'node:crypto';
import { AppError } from './problem.ts';
import type { Config } from '../config/config.ts';

export interface SdkKeyGrant {
  keyId: string;
  environment: string;
}

export interface SdkKeyVerifier {
  /**
   * The key's grant. `connection` (the request's socket) lets a keep-alive connection that sends the same key
   * again skip even hashing it, within the same time-to-live (and get the grant at once, not as a promise).
   */
  verify(key: string, connection?: object): SdkKeyGrant | Promise<SdkKeyGrant>;
}

/**
 * Checks SDK keys with the auth service and remembers each answer for `ttlMs` (both "valid" and "not valid"), so
 * the hot path pays one map look-up and a revoked key stops working everywhere within `ttlMs`.
 */
export function createSdkKeyVerifier(options: { authUrl: string; ttlMs?: number; maxEntries?: number; now?: () => number }): SdkKeyVerifier {
  const ttlMs = options.ttlMs ?? 5_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const url = new URL('/auth/api-keys/verify', options.authUrl);
  // A grant and until when it may be used without asking auth again.
  type Verified = { grant: SdkKeyGrant; expiresAt: number };
  const cache = new Map<string, { expiresAt: number; verified?: Verified; pending?: Promise<Verified> }>();
  // The last key a connection proved, held only as long as that connection (its requests carry the key anyway).
  const byConnection = new WeakMap<object, Verified & { key: string }>();
  const invalid = () => new AppError('UNAUTHENTICATED', 'The API key is not valid or was revoked');

  async function ask(key: string): Promise<SdkKeyGrant | undefined> {
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key }), signal: AbortSignal.timeout(2_000) });
    } catch {
      throw new AppError('SERVICE_UNAVAILABLE', 'API keys cannot be checked right now');
    }
    if (response.status === 200) return (await response.json()) as SdkKeyGrant;
    if (response.status === 401 || response.status === 400) return undefined;
    throw new AppError('SERVICE_UNAVAILABLE', 'API keys cannot be checked right now');
  }

  function lookUp(key: string): Verified | Promise<Verified> {
    // Remember keys by their hash: the map never holds a usable secret.
    const id = hash('sha256', key, 'base64url');
    const cached = cache.get(id);
    const at = now();
    if (cached && cached.expiresAt > at) {
      if (cached.verified) return cached.verified;
      if (cached.pending) return cached.pending;
      throw invalid();
    }
    if (cache.size >= maxEntries) cache.clear();
    const pending = ask(key).then(
      (grant) => {
        const expiresAt = now() + ttlMs;
        if (!grant) {
          cache.set(id, { expiresAt });
          throw invalid();
        }
        const verified = { grant, expiresAt };
        cache.set(id, { expiresAt, verified });
        return verified;
      },
      (error: unknown) => {
        cache.delete(id);
        throw error;
      },
    );
    // Concurrent requests with one new key share one call to auth.
    cache.set(id, { expiresAt: at + ttlMs, pending });
    return pending;
  }

  async function verifyAndRemember(key: string, connection: object | undefined): Promise<SdkKeyGrant> {
    const verified = await lookUp(key);
    if (connection) byConnection.set(connection, { key, ...verified });
    return verified.grant;
  }

  return {
    verify(key, connection) {
      const last = connection && byConnection.get(connection);
      if (last && last.key === key && last.expiresAt > now()) return last.grant;
      return verifyAndRemember(key, connection);
    },
  };
}

/** The verifier every service builds from its configuration. */
export function sdkKeyVerifierFor(config: Pick<Config, 'AUTH_URL' | 'SDK_KEY_CACHE_SECONDS'>): SdkKeyVerifier {
  return createSdkKeyVerifier({ authUrl: config.AUTH_URL, ttlMs: config.SDK_KEY_CACHE_SECONDS * 1000 });
}
