import { afterAll, describe, expect, it } from 'vitest';
import type { Cache } from './cache.ts';

/** The cache's behaviour, held to on Redis (integration) and in memory (unit). */
export function cacheContract(name: string, make: () => Promise<{ cache: Cache; cleanup: () => Promise<void> }>): void {
  describe(name, () => {
    let made: Awaited<ReturnType<typeof make>> | undefined;
    const cache = async () => (made ??= await make()).cache;
    afterAll(async () => made?.cleanup());

    it('counts within a window and reports what is left of it', async () => {
      const c = await cache();
      expect(await c.count('k1')).toBe(0);
      expect(await c.increment('k1', 60)).toBe(1);
      expect(await c.increment('k1', 60)).toBe(2);
      expect(await c.count('k1')).toBe(2);
      const ttl = await c.ttl('k1');
      expect(ttl).toBeGreaterThan(55);
      expect(ttl).toBeLessThanOrEqual(60);
    });

    it('starts the window at the first increment, not the last', async () => {
      const c = await cache();
      await c.increment('k2', 1);
      await new Promise((r) => setTimeout(r, 600));
      await c.increment('k2', 1);
      await new Promise((r) => setTimeout(r, 600));
      expect(await c.count('k2')).toBe(0);
      expect(await c.ttl('k2')).toBe(0);
    });

    it('forgets a counter on delete', async () => {
      const c = await cache();
      await c.increment('k3', 60);
      await c.delete('k3');
      expect(await c.count('k3')).toBe(0);
      await expect(c.ping()).resolves.toBeUndefined();
    });
  });
}
