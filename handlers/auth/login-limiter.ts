import type { Cache } from '../../shared/cache/cache.ts';
import { AppError } from '../../shared/http/problem.ts';

export interface LoginLimits {
  maxFailuresPerAccount: number;
  maxAttemptsPerAddress: number;
}

const accountWindowSeconds = 15 * 60;
const addressWindowSeconds = 60;

/**
 * Throttles password guessing twice over: every attempt counts against the caller's address (per minute), every
 * failure against the account (per 15 minutes). Counters live in the shared cache so every replica sees them.
 */
export function createLoginLimiter(cache: Cache, limits: LoginLimits) {
  const accountKey = (email: string) => `login:account:${email}`;
  const tooMany = (retryAfter: number) =>
    new AppError('RATE_LIMITED', 'Too many sign-in attempts; try again later', { headers: { 'retry-after': String(Math.max(1, retryAfter)) } });

  return {
    /** Counts an attempt from this address (sign-in or sign-up) and refuses it past the per-minute budget. */
    async admitAddress(address: string): Promise<void> {
      const addressKey = `login:address:${address}`;
      if ((await cache.increment(addressKey, addressWindowSeconds)) > limits.maxAttemptsPerAddress) throw tooMany(await cache.ttl(addressKey));
    },
    /** Refuses a sign-in to an account whose failure budget is spent. Runs before the password is checked. */
    async admitAccount(email: string): Promise<void> {
      if ((await cache.count(accountKey(email))) >= limits.maxFailuresPerAccount) throw tooMany(await cache.ttl(accountKey(email)));
    },
    async recordFailure(email: string): Promise<void> {
      await cache.increment(accountKey(email), accountWindowSeconds);
    },
    async recordSuccess(email: string): Promise<void> {
      await cache.delete(accountKey(email));
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;
