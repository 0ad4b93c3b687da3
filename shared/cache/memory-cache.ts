import type { Cache } from './cache.ts';

const sweepEveryMs = 60_000;

/** In-process cache for one process (all-in-one, unit tests): same semantics as the Redis one, expiry included. */
export function createMemoryCache(now: () => number = Date.now): Cache & { size(): number } {
  const counters = new Map<string, { count: number; expiresAt: number }>();
  const live = (key: string) => {
    const entry = counters.get(key);
    if (entry && entry.expiresAt <= now()) {
      counters.delete(key);
      return undefined;
    }
    return entry;
  };
  // Counters nobody asks about again (one per guessed e-mail or address) would otherwise stay forever.
  let nextSweepAt = now() + sweepEveryMs;
  const sweepExpired = () => {
    const at = now();
    if (at < nextSweepAt) return;
    nextSweepAt = at + sweepEveryMs;
    for (const [key, entry] of counters) if (entry.expiresAt <= at) counters.delete(key);
  };
  return {
    async increment(key, windowSeconds) {
      sweepExpired();
      const entry = live(key) ?? { count: 0, expiresAt: now() + windowSeconds * 1000 };
      entry.count += 1;
      counters.set(key, entry);
      return entry.count;
    },
    async count(key) {
      return live(key)?.count ?? 0;
    },
    async ttl(key) {
      const entry = live(key);
      return entry ? Math.ceil((entry.expiresAt - now()) / 1000) : 0;
    },
    async delete(key) {
      counters.delete(key);
    },
    async ping() {},
    async close() {
      counters.clear();
    },
    /** Counters held, expired ones not yet swept included. */
    size: () => counters.size,
  };
}
