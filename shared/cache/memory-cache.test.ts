import { describe, expect, it } from 'vitest';
import { createMemoryCache } from './memory-cache.ts';
import { cacheContract } from './cache.contract.ts';

cacheContract('in-process cache', async () => ({ cache: createMemoryCache(), cleanup: async () => {} }));

describe('in-process cache memory', () => {
  it('drops expired counters that are never read again', async () => {
    let clock = 0;
    const cache = createMemoryCache(() => clock);
    for (let i = 0; i < 100; i++) await cache.increment(`guess:${i}`, 60);
    clock += 61_000;
    await cache.increment('later', 60);
    expect(cache.size()).toBe(1);
  });
});
