import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { createTestDatabase, type TestDatabase } from '../../shared/testing/postgres.ts';
import { startFlagsPublisher } from './config-publisher.ts';
import { createFlagService, type FlagService } from './flag-service.ts';
import type { FlagsDatabase } from './flag-store.postgres.ts';
import { createFlagStore, migrateFlags } from './flags-app.ts';
import { flagsSchema } from './migrations/index.ts';
import { until } from '../../shared/testing/until.ts';

const actor = { userId: '00000000-0000-4000-8000-000000000001', email: 'editor@example.com', role: 'editor' as const };

describe('flags publisher', () => {
  let test: TestDatabase<FlagsDatabase>;
  let service: FlagService;
  beforeAll(async () => {
    test = await createTestDatabase<FlagsDatabase>('flags');
    await migrateFlags(test.db);
    service = createFlagService({ store: createFlagStore(test.db), environments: ['development', 'production'] });
  });
  afterAll(() => test.drop());

  it('keeps a flag in the cache when reading it fails for a moment, and publishes it once the read succeeds', async () => {
    const cache = createMemoryConfigCache();
    let failingReads = 3;
    const removed: string[] = [];
    const flaky: FlagService = {
      ...service,
      async get(key) {
        if (failingReads > 0) {
          failingReads -= 1;
          throw new Error('Connection terminated unexpectedly');
        }
        return service.get(key);
      },
    };
    const watched = { ...cache, removeFlag: async (key: string) => void removed.push(key) };
    await service.create({ key: 'kept', name: 'Kept', type: 'boolean' }, actor);
    const publisher = startFlagsPublisher({
      pool: test.pool,
      schema: flagsSchema,
      service: flaky,
      cache: watched,
      logger: createLogger('silent', 'test'),
      metrics: new Registry(),
    });
    try {
      await until(async () => (await cache.getFlags(['kept']))[0] !== undefined);
      await service.updateEnvironment('kept', 'production', { enabled: true }, undefined, actor);
      await until(async () => (await cache.getFlags(['kept']))[0]?.environments.production?.enabled === true);
      expect(failingReads).toBe(0);
      expect(removed).toEqual([]);
    } finally {
      await publisher.stop();
    }
  });

  it('removes a flag from the cache when it is archived, and puts it back when it is restored', async () => {
    const cache = createMemoryConfigCache();
    await service.create({ key: 'short-lived', name: 'Short-lived', type: 'boolean' }, actor);
    const publisher = startFlagsPublisher({
      pool: test.pool,
      schema: flagsSchema,
      service,
      cache,
      logger: createLogger('silent', 'test'),
      metrics: new Registry(),
    });
    try {
      await until(async () => (await cache.getFlags(['short-lived']))[0] !== undefined);
      await service.archive('short-lived', undefined, actor);
      await until(async () => (await cache.getFlags(['short-lived']))[0] === undefined);
      expect(await cache.flagKeys()).not.toContain('short-lived');
      await service.restore('short-lived', undefined, actor);
      await until(async () => (await cache.getFlags(['short-lived']))[0]?.version === 3);
    } finally {
      await publisher.stop();
    }
  });
});
