import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { fixedFlags } from '../../shared/testing/flags-client.ts';
import { createTestDatabase, type TestDatabase } from '../../shared/testing/postgres.ts';
import { startTargetingPublisher } from './config-publisher.ts';
import { targetingSchema } from './migrations/index.ts';
import { createTargetingStore, migrateTargeting } from './targeting-app.ts';
import { createTargetingService } from './targeting-service.ts';
import type { TargetingDatabase } from './targeting-store.postgres.ts';
import type { TargetingStore } from './targeting-store.ts';
import { until } from '../../shared/testing/until.ts';

const actor = { userId: '00000000-0000-4000-8000-000000000001', email: 'editor@example.com', role: 'editor' as const };

describe('targeting publisher', () => {
  let test: TestDatabase<TargetingDatabase>;
  let store: TargetingStore;
  beforeAll(async () => {
    test = await createTestDatabase<TargetingDatabase>('targeting');
    await migrateTargeting(test.db);
    store = createTargetingStore(test.db);
  });
  afterAll(() => test.drop());

  it('keeps a segment in the cache when reading it fails for a moment, and removes it only once it is deleted', async () => {
    const cache = createMemoryConfigCache();
    const service = createTargetingService({ store, flags: fixedFlags([]) });
    await service.createSegment({ key: 'beta', name: 'Beta', included: ['u-1'] }, 'default', { bearer: 'unused' }, actor);
    const publisher = startTargetingPublisher({
      pool: test.pool,
      schema: targetingSchema,
      store,
      cache,
      logger: createLogger('silent', 'test'),
      metrics: new Registry(),
    });
    try {
      await until(async () => (await cache.getSegment('beta'))?.included?.includes('u-1') === true);
      // With its project: evaluation gives an SDK key the segments of its own project only.
      expect(await cache.getSegment('beta')).toMatchObject({ key: 'beta', project: 'default' });
    } finally {
      await publisher.stop();
    }
    let failingReads = 3;
    const removed: string[] = [];
    const flaky: TargetingStore = {
      ...store,
      async getSegment(key) {
        if (failingReads > 0) {
          failingReads -= 1;
          throw new Error('Connection terminated unexpectedly');
        }
        return store.getSegment(key);
      },
    };
    const watched = { ...cache, removeSegment: async (key: string) => void removed.push(key) };
    const segment = await store.getSegment('beta');
    await service.updateSegment('beta', { name: 'Beta', included: ['u-1', 'u-2'] }, `"${segment!.version}"`, actor);
    const again = startTargetingPublisher({
      pool: test.pool,
      schema: targetingSchema,
      store: flaky,
      cache: watched,
      logger: createLogger('silent', 'test'),
      metrics: new Registry(),
    });
    try {
      await until(async () => (await cache.getSegment('beta'))?.included?.includes('u-2') === true);
      expect(failingReads).toBe(0);
      expect(removed).toEqual([]);
      await service.deleteSegment('beta', undefined, actor);
      await until(async () => removed.includes('beta'));
    } finally {
      await again.stop();
    }
  });
});
