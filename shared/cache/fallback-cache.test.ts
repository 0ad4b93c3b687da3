import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Cache } from './cache.ts';
import { createFallbackCache } from './fallback-cache.ts';
import { createMemoryCache } from './memory-cache.ts';

/** A shared cache that can be switched off (every call fails, as ioredis does with Redis away) or made silent. */
function switchableCache() {
  const inner = createMemoryCache();
  const state = { mode: 'up' as 'up' | 'down' | 'silent' };
  const guard = async <T>(call: () => Promise<T>): Promise<T> => {
    if (state.mode === 'down') throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
    if (state.mode === 'silent') return new Promise<T>(() => {});
    return call();
  };
  const cache: Cache = {
    increment: (key, seconds) => guard(() => inner.increment(key, seconds)),
    count: (key) => guard(() => inner.count(key)),
    ttl: (key) => guard(() => inner.ttl(key)),
    delete: (key) => guard(() => inner.delete(key)),
    ping: () => guard(() => inner.ping()),
    close: () => inner.close(),
  };
  return { cache, state };
}

function capturedLogger() {
  const lines: { level: number; msg: string; err?: { message: string } }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  return { logger, warnings: () => lines.filter((l) => l.level === 40), infos: () => lines.filter((l) => l.level === 30) };
}

describe('fallback cache', () => {
  it('keeps counting in this process while the shared cache fails, and warns once per outage with the error', async () => {
    const shared = switchableCache();
    const log = capturedLogger();
    const cache = createFallbackCache(shared.cache, { logger: log.logger, retryMs: 0 });
    expect(await cache.increment('k', 60)).toBe(1);
    shared.state.mode = 'down';
    expect(await cache.increment('k', 60)).toBe(1);
    expect(await cache.increment('k', 60)).toBe(2);
    expect(await cache.count('k')).toBe(2);
    expect(log.warnings()).toHaveLength(1);
    expect(log.warnings()[0]?.err?.message).toContain('enableOfflineQueue');
    await expect(cache.ping()).rejects.toThrow();
  });

  it('goes back to the shared cache when it answers again, and warns again at the next outage', async () => {
    const shared = switchableCache();
    const log = capturedLogger();
    let clock = 0;
    const cache = createFallbackCache(shared.cache, { logger: log.logger, retryMs: 1000, now: () => clock });
    await cache.increment('k', 60);
    shared.state.mode = 'down';
    for (let i = 0; i < 3; i++) await cache.increment('k', 60);
    shared.state.mode = 'up';
    // Within the retry interval the in-process counter still answers; past it, the shared one does.
    expect(await cache.count('k')).toBe(3);
    clock += 1000;
    expect(await cache.increment('k', 60)).toBe(2);
    expect(log.infos()).toHaveLength(1);
    shared.state.mode = 'down';
    await cache.increment('k', 60);
    expect(log.warnings()).toHaveLength(2);
  });

  it('treats a shared cache that does not answer in time as away', async () => {
    const shared = switchableCache();
    shared.state.mode = 'silent';
    const log = capturedLogger();
    const cache = createFallbackCache(shared.cache, { logger: log.logger, timeoutMs: 20 });
    expect(await cache.increment('k', 60)).toBe(1);
    expect(log.warnings()[0]?.err?.message).toContain('did not answer within 20 ms');
  });
});
