import { randomBytes } from 'node:crypto';
import { createRedisCache, createRedisClient, whenReady } from './redis-cache.ts';
import { cacheContract } from './cache.contract.ts';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

cacheContract('Redis cache', async () => {
  // A key prefix of the suite's own keeps it apart from every other suite on the same server.
  const prefix = `tm-test:${randomBytes(4).toString('hex')}:`;
  const redis = createRedisClient(redisUrl, { keyPrefix: prefix });
  if (!(await whenReady(redis, 5000))) throw new Error(`Redis is not answering at ${redisUrl}`);
  const cache = createRedisCache(redis);
  return {
    cache,
    cleanup: async () => {
      const keys = await redis.keys('*').then((all) => all.filter((k) => k.startsWith(prefix)));
      if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(prefix.length)));
      await cache.close();
    },
  };
});
