import type { Logger } from '../logging/logger.ts';
import type { Cache } from './cache.ts';
import { createMemoryCache } from './memory-cache.ts';

export interface FallbackCacheOptions {
  logger: Logger;
  /** What the counters go to while the shared cache is away (an in-process one unless a test gives another). */
  fallback?: Cache;
  /** A shared-cache call that has not answered by then counts as failed: a silent Redis must not hang sign-in. */
  timeoutMs?: number;
  /** While degraded, how often one call tries the shared cache again (the others go straight to the fallback). */
  retryMs?: number;
  now?: () => number;
}

/**
 * The shared cache when it answers, an in-process one when it does not: limits keep working, per process instead
 * of per fleet, instead of failing every request that counts something. Warns once when an outage starts (with
 * the error) and says so once when the shared cache is back. `ping` reports the shared cache itself.
 */
export function createFallbackCache(primary: Cache, options: FallbackCacheOptions): Cache {
  const fallback = options.fallback ?? createMemoryCache();
  const timeoutMs = options.timeoutMs ?? 500;
  const retryMs = options.retryMs ?? 1_000;
  const now = options.now ?? Date.now;
  let degraded = false;
  let retryAt = 0;

  async function withTimeout<T>(call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the shared cache did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([call, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  async function run<T>(use: (cache: Cache) => Promise<T>): Promise<T> {
    if (degraded && now() < retryAt) return use(fallback);
    try {
      const result = await withTimeout(use(primary));
      if (degraded) {
        degraded = false;
        options.logger.info('the shared cache answers again: limits are shared by every replica again');
      }
      return result;
    } catch (error) {
      if (!degraded)
        options.logger.warn({ err: error }, 'the shared cache is not answering: counting limits in this process until it is back');
      degraded = true;
      retryAt = now() + retryMs;
      return use(fallback);
    }
  }

  return {
    increment: (key, windowSeconds) => run((cache) => cache.increment(key, windowSeconds)),
    count: (key) => run((cache) => cache.count(key)),
    ttl: (key) => run((cache) => cache.ttl(key)),
    delete: (key) => run((cache) => cache.delete(key)),
    ping: () => primary.ping(),
    async close() {
      await Promise.allSettled([primary.close(), fallback.close()]);
    },
  };
}
