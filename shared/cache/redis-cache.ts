import { Redis } from 'ioredis';
import type { Cache } from './cache.ts';

export function createRedisClient(url: string, options: { password?: string | undefined; keyPrefix?: string } = {}): Redis {
  return new Redis(url, {
    ...(options.password ? { password: options.password } : {}),
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
    // Fail fast while Redis is away instead of queueing commands behind a dead connection.
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    // Reconnect quickly once Redis is back: configuration changes wait on it (the default backs off to 2 s), and
    // "every change within 1 s" holds only if the reconnection takes a fraction of that.
    retryStrategy: (attempt: number) => Math.min(attempt * 50, 200),
    lazyConnect: false,
  });
}

/** Waits for the first connection, up to `ms`; false when Redis is not there (callers carry on, degraded). */
export async function whenReady(redis: Redis, ms: number): Promise<boolean> {
  if (redis.status === 'ready') return true;
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const onReady = () => done(true);
    function done(ready: boolean) {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    }
    redis.on('ready', onReady);
  });
}

export function createRedisCache(redis: Redis): Cache {
  return {
    async increment(key, windowSeconds) {
      // One round trip: the counter and its window are set atomically, the window starting at the first hit.
      const replies = await redis.multi().incr(key).expire(key, windowSeconds, 'NX').exec();
      const failed = replies?.find(([error]) => error)?.[0];
      if (!replies || failed) throw failed ?? new Error('Redis transaction was discarded');
      return replies[0]?.[1] as number;
    },
    async count(key) {
      return Number.parseInt((await redis.get(key)) ?? '0', 10);
    },
    async ttl(key) {
      return Math.max(0, await redis.ttl(key));
    },
    async delete(key) {
      await redis.del(key);
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
