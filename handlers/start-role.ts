import { logConnectionErrors } from '../shared/runtime/connection-errors.ts';
import { requireFor, portOf, type Config, type Role } from '../shared/config/config.ts';
import type { Cache } from '../shared/cache/cache.ts';
import type { ConfigCache } from '../shared/propagation/config-cache.ts';
import type { Logger } from '../shared/logging/logger.ts';
import { stopOnSignal } from '../shared/runtime/lifecycle.ts';
import { releaseMemorySoon } from '../shared/runtime/release-startup-memory.ts';
import { frontends, services, workers } from './roles.ts';
import type { FrontendRole, WorkerRole } from '../shared/config/config.ts';

/**
 * Redis when configured (shared by every replica), else in-process stand-ins that serve this process only. Loaded
 * here, by the services that use them: ioredis alone was a fifth of the start of a role that never opens Redis
 * (the console, the workers that open their own).
 */
export async function createCaches(
  config: Config,
  logger: Logger,
): Promise<{ cache: Cache; configCache: ConfigCache; close(): Promise<void> }> {
  if (!config.REDIS_URL) {
    logger.warn('REDIS_URL is not set: using in-process caches (fine for one process, not for several replicas)');
    const [{ createMemoryCache }, { createMemoryConfigCache }] = await Promise.all([
      import('../shared/cache/memory-cache.ts'),
      import('../shared/propagation/memory-config-cache.ts'),
    ]);
    const cache = createMemoryCache();
    const configCache = createMemoryConfigCache();
    return { cache, configCache, close: async () => void (await Promise.all([cache.close(), configCache.close()])) };
  }
  const [{ createRedisCache, createRedisClient, whenReady }, { createRedisConfigCache }] = await Promise.all([
    import('../shared/cache/redis-cache.ts'),
    import('../shared/propagation/redis-config-cache.ts'),
  ]);
  const redis = createRedisClient(config.REDIS_URL, { password: config.REDIS_PASSWORD, keyPrefix: config.REDIS_KEY_PREFIX });
  logConnectionErrors(redis, logger, 'redis');
  if (!(await whenReady(redis, 5000))) logger.warn('Redis is not answering yet; carrying on and reconnecting in the background');
  const configCache = createRedisConfigCache(redis, { keyPrefix: config.REDIS_KEY_PREFIX, logger });
  const cache = createRedisCache(redis);
  return {
    cache,
    configCache,
    close: async () => {
      await configCache.close();
      await cache.close();
    },
  };
}

/** One service in this process, on its own port, against the database and cache the environment names. */
export async function startRole(role: Role, config: Config, logger: Logger, stopTelemetry: () => Promise<void>): Promise<void> {
  const definition = services[role];
  if (!definition) throw new Error(`unknown role ${role}`);
  requireFor(config, [role]);
  // Only the services that own a database load PostgreSQL's driver and Kysely.
  const pool = definition.database ? (await import('../shared/db/database.ts')).createPool(config, { logger }) : undefined;
  const caches = await createCaches(config, logger);
  const started = await definition.start({
    config,
    logger,
    cache: caches.cache,
    configCache: caches.configCache,
    port: portOf(role, config, true),
    ...(pool ? { pool } : {}),
  });
  releaseMemorySoon();
  stopOnSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
    await started.stop();
    await Promise.allSettled([pool?.end(), caches.close(), stopTelemetry()]);
  });
}

/** One queue worker or front end (the console) in this process: it opens whatever it needs itself. */
export async function startStandalone(
  role: WorkerRole | FrontendRole,
  config: Config,
  logger: Logger,
  stopTelemetry: () => Promise<void>,
): Promise<void> {
  const started = await { ...workers, ...frontends }[role]({ config, logger, port: portOf(role, config, true) });
  releaseMemorySoon();
  stopOnSignal(logger, config.SHUTDOWN_TIMEOUT_MS, async () => {
    await started.stop();
    await stopTelemetry();
  });
}
