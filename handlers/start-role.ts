import { requireFor, portOf, type Config, type Role } from '../shared/config/config.ts';
import { createMemoryCache } from '../shared/cache/memory-cache.ts';
import { createRedisCache, createRedisClient, whenReady } from '../shared/cache/redis-cache.ts';
import type { Cache } from '../shared/cache/cache.ts';
import { createPool } from '../shared/db/database.ts';
import type { Logger } from '../shared/logging/logger.ts';
import { stopOnSignal } from '../shared/runtime/lifecycle.ts';
import { services } from './roles.ts';

export async function createCache(config: Config, logger: Logger): Promise<Cache> {
  if (!config.REDIS_URL) {
    logger.warn('REDIS_URL is not set: using an in-process cache (fine for one process, not for several replicas)');
    return createMemoryCache();
  }
  const redis = createRedisClient(config.REDIS_URL, { password: config.REDIS_PASSWORD, keyPrefix: config.REDIS_KEY_PREFIX });
  redis.on('error', (error: Error) => logger.warn({ err: error.message }, 'redis connection error'));
  if (!(await whenReady(redis, 5000))) logger.warn('Redis is not answering yet; carrying on and reconnecting in the background');
  return createRedisCache(redis);
}

/** One service in this process, on its own port, against the database and cache the environment names. */
export async function startRole(role: Role, config: Config, logger: Logger, stopTelemetry: () => Promise<void>): Promise<void> {
  const definition = services[role];
  if (!definition) throw new Error(`unknown role ${role}`);
  requireFor(config, [role]);
  const pool = definition.database ? createPool(config) : undefined;
  const cache = await createCache(config, logger);
  const started = await definition.start({ config, logger, cache, port: portOf(role, config, true), ...(pool ? { pool } : {}) });
  stopOnSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
    await started.stop();
    await Promise.allSettled([pool?.end(), cache.close(), stopTelemetry()]);
  });
}
