import type { Cache } from '../../shared/cache/cache.ts';
import { AppError } from '../../shared/http/problem.ts';

export interface LoginLimits {
  /** Sign-in and sign-up attempts per client address per minute. */
  maxAttemptsPerAddress: number;
  /** Failed sign-ins to one account from one address per 15 minutes; past them that address is refused for it. */
  maxFailuresPerAccountAndAddress: number;
  /** Failed sign-ins to one account from every address per 15 minutes; past them each sign-in to it is slowed. */
  maxFailuresPerAccount: number;
  /** The first delay past `maxFailuresPerAccount`; each further failure doubles it, up to `maxDelayMs`. */
  firstDelayMs?: number;
  maxDelayMs?: number;
}

const failureWindowSeconds = 15 * 60;
const addressWindowSeconds = 60;
const defaultFirstDelayMs = 1_000;
const defaultMaxDelayMs = 10_000;

/** How long a sign-in to an account with `failures` recent failures waits before its password is checked. */
export function accountDelayMs(failures: number, limits: LoginLimits): number {
  if (failures < limits.maxFailuresPerAccount) return 0;
  const first = limits.firstDelayMs ?? defaultFirstDelayMs;
  const max = limits.maxDelayMs ?? defaultMaxDelayMs;
  // Capped before the power grows huge: a long attack must not overflow the delay into "no delay".
  return Math.min(max, first * 2 ** Math.min(failures - limits.maxFailuresPerAccount, 30));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Bounds password guessing without handing a stranger the power to lock the owner out (OWASP Authentication
 * cheat sheet): every attempt counts against the caller's address; failures count against the account-and-address
 * pair, which is refused once they run out; and failures from all addresses together only slow the account down,
 * never refuse it, so the owner still gets in from their own address while someone else keeps guessing.
 * Counters live in the shared cache so every replica sees them.
 */
export function createLoginLimiter(cache: Cache, limits: LoginLimits, options: { wait?: (ms: number) => Promise<void> } = {}) {
  const wait = options.wait ?? sleep;
  const accountKey = (email: string) => `login:account:${email}`;
  // The address last, after a space: an address has none, so no e-mail a caller makes up can name another's pair.
  const pairKey = (email: string, address: string) => `login:pair:${email} ${address}`;
  const tooMany = (retryAfter: number) =>
    new AppError('RATE_LIMITED', 'Too many sign-in attempts; try again later', {
      headers: { 'retry-after': String(Math.max(1, retryAfter)) },
    });

  return {
    /** Counts an attempt from this address (sign-in or sign-up) and refuses it past the per-minute budget. */
    async admitAddress(address: string): Promise<void> {
      const addressKey = `login:address:${address}`;
      if ((await cache.increment(addressKey, addressWindowSeconds)) > limits.maxAttemptsPerAddress)
        throw tooMany(await cache.ttl(addressKey));
    },

    /**
     * Runs before the password is checked. The attempt is counted as a failure of the pair up front (a success
     * clears it), so parallel guesses cannot all slip past the check before any of them is recorded. The account's
     * delay is served before the check too: answering failures late but successes at once would tell a guesser
     * which guess was right without waiting.
     */
    async admitSignIn(email: string, address: string): Promise<void> {
      const key = pairKey(email, address);
      if ((await cache.increment(key, failureWindowSeconds)) > limits.maxFailuresPerAccountAndAddress) throw tooMany(await cache.ttl(key));
      const delay = accountDelayMs(await cache.count(accountKey(email)), limits);
      if (delay > 0) await wait(delay);
    },

    async recordFailure(email: string): Promise<void> {
      await cache.increment(accountKey(email), failureWindowSeconds);
    },

    /** Clears this address's failures only: the account's count measures guessing from elsewhere and runs out on its own. */
    async recordSuccess(email: string, address: string): Promise<void> {
      await cache.delete(pairKey(email, address));
    },
  };
}

export type LoginLimiter = ReturnType<typeof createLoginLimiter>;
