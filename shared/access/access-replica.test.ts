import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createMemoryConfigCache } from '../propagation/memory-config-cache.ts';
import type { ConfigCache } from '../propagation/config-cache.ts';
import type { SdkKeyRecord } from '../contracts/access-model.ts';
import { createLogger } from '../logging/logger.ts';
import { createAccessReplica } from './access-replica.ts';
import { until } from '../testing/until.ts';

const logger = createLogger('silent', 'test');
const key = (id: string, overrides: Partial<SdkKeyRecord> = {}): SdkKeyRecord => ({
  id,
  hash: `hash-${id}`,
  environment: 'production',
  kind: 'server',
  revoked: false,
  ...overrides,
});

async function seeded(): Promise<ConfigCache> {
  const cache = createMemoryConfigCache();
  await cache.putSdkKey(key('k1'));
  await cache.putUserAccess({ id: 'u1', role: 'admin', disabled: false });
  await cache.markSeeded('auth');
  return cache;
}

describe('access replica', () => {
  it('loads the published keys and users, then applies each change as it is heard', async () => {
    const cache = await seeded();
    const replica = createAccessReplica({ cache, logger, metrics: new Registry() });
    await replica.start();
    try {
      expect(replica.loaded).toBe(true);
      expect(replica.sdkKey('hash-k1')?.environment).toBe('production');
      expect(replica.user('u1')).toEqual({ id: 'u1', role: 'admin', disabled: false });

      await cache.putSdkKey(key('k1', { revoked: true }));
      await cache.publish({ kind: 'sdk-key', id: 'k1' });
      await cache.putUserAccess({ id: 'u1', role: 'viewer', disabled: true });
      await cache.publish({ kind: 'user', id: 'u1' });
      await until(() => replica.sdkKey('hash-k1')?.revoked === true && replica.user('u1')?.disabled === true, {
        limitMs: 2_000,
        everyMs: 5,
      });
      expect(replica.user('u1')?.role).toBe('viewer');

      await cache.removeSdkKey('k1');
      await cache.publish({ kind: 'sdk-key', id: 'k1' });
      await until(() => replica.sdkKey('hash-k1') === undefined, { limitMs: 2_000, everyMs: 5 });
    } finally {
      await replica.stop();
    }
  });

  it('is not loaded while auth has not seeded the cache, and loads when auth announces it did', async () => {
    const cache = createMemoryConfigCache();
    const replica = createAccessReplica({ cache, logger, metrics: new Registry(), retryMs: 60_000 });
    await replica.start();
    try {
      expect(replica.loaded).toBe(false);
      await cache.putSdkKey(key('k2'));
      await cache.markSeeded('auth');
      await cache.publish({ kind: 'reseeded', owner: 'auth' });
      await until(() => replica.loaded, { limitMs: 2_000, everyMs: 5 });
      expect(replica.sdkKey('hash-k2')).toBeDefined();
    } finally {
      await replica.stop();
    }
  });

  it('keeps the last good copy while the cache cannot be read, and catches up when it can', async () => {
    const cache = await seeded();
    let reachable = true;
    const flaky: ConfigCache = {
      ...cache,
      getSdkKeys: async (ids) => {
        if (!reachable) throw new Error('connect ECONNREFUSED');
        return cache.getSdkKeys(ids);
      },
    };
    const replica = createAccessReplica({ cache: flaky, logger, metrics: new Registry(), retryMs: 20 });
    await replica.start();
    try {
      reachable = false;
      await cache.putSdkKey(key('k3'));
      await cache.publish({ kind: 'sdk-key', id: 'k3' });
      await new Promise((r) => setTimeout(r, 100));
      // The change could not be read: nothing was dropped, the known key still works.
      expect(replica.sdkKey('hash-k1')).toBeDefined();
      expect(replica.sdkKey('hash-k3')).toBeUndefined();
      reachable = true;
      await until(() => replica.sdkKey('hash-k3') !== undefined, { limitMs: 2_000, everyMs: 5 });
    } finally {
      await replica.stop();
    }
  });
});
