import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging/logger.ts';
import { type EventBatch } from '../../shared/events/evaluation-event.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { testTokens } from '../../shared/testing/tokens.ts';
import { buildAnalyticsApp, createAnalyticsStore } from './analytics-app.ts';

const now = Date.UTC(2026, 10, 24, 12, 0);
const minute = 60_000;

function batch(id: string, events: EventBatch['events']): EventBatch {
  return { batchId: id, events, counts: [] };
}

describe('analytics API', () => {
  const store = createAnalyticsStore();
  let app: Awaited<ReturnType<typeof buildAnalyticsApp>>['app'];
  let viewer: string;

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    viewer = await tokenFor('viewer');
    ({ app } = await buildAnalyticsApp({
      config: testConfig(),
      logger: createLogger('silent', 'analytics'),
      store,
      verifier,
      now: () => now,
    }));
    await store.writeBatch(
      batch('batch-one', [
        ['checkout', 'production', 'on', 'TARGETING_MATCH', 'r1', 'k1', now - 10 * minute],
        ['checkout', 'production', 'on', 'TARGETING_MATCH', 'r1', 'k2', now - 10 * minute + 1],
        ['checkout', 'production', 'off', 'DEFAULT', null, 'k3', now - 2 * minute],
        ['banner', 'production', 'blue', 'SPLIT', null, 'k1', now - minute],
        ['checkout', 'development', 'on', 'STATIC', null, 'k1', now - minute],
      ]),
      30 * 86_400_000,
    );
    // The same batch again (a redelivery) changes nothing.
    await store.writeBatch(
      batch('batch-one', [['checkout', 'production', 'on', 'TARGETING_MATCH', 'r1', 'k1', now - 10 * minute]]),
      30 * 86_400_000,
    );
  });
  afterAll(() => app.close());

  const get = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${viewer}` } });

  it('answers stats per variant per minute with totals', async () => {
    const res = await get(
      `/analytics/stats?flagKey=checkout&environment=production&from=${new Date(now - 15 * minute).toISOString()}&to=${new Date(now).toISOString()}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ totals: Record<string, number>; total: number; buckets: { total: number }[] }>();
    expect(body.totals).toEqual({ on: 1, off: 1 });
    expect(body.buckets).toHaveLength(16);
  });

  it('lists recent events newest first, a page at a time', async () => {
    const first = (await get('/analytics/events?environment=production&limit=2')).json<{
      items: { flagKey: string; at: string }[];
      nextCursor: string;
    }>();
    expect(first.items.map((e) => e.flagKey)).toEqual(['banner', 'checkout']);
    const rest = (await get(`/analytics/events?environment=production&limit=2&cursor=${first.nextCursor}`)).json<{
      items: unknown[];
      nextCursor: string | null;
    }>();
    expect(rest.items).toHaveLength(2);
    expect(rest.nextCursor).toBeNull();
  });

  it('groups exact counts by any dimension', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/analytics/query',
      headers: { authorization: `Bearer ${viewer}` },
      payload: { environment: 'production', groupBy: ['flagKey', 'reason'] },
    });
    expect(res.json()).toEqual({
      groups: [
        { flagKey: 'checkout', reason: 'TARGETING_MATCH', count: 1 },
        { flagKey: 'checkout', reason: 'DEFAULT', count: 1 },
        { flagKey: 'banner', reason: 'SPLIT', count: 1 },
      ].sort((a, b) => b.count - a.count),
      total: 3,
    });
  });

  it('refuses bad ranges, unknown fields and oversized queries with 4xx', async () => {
    const cases = [
      get(
        `/analytics/stats?flagKey=checkout&environment=production&from=${new Date(now).toISOString()}&to=${new Date(now - minute).toISOString()}`,
      ),
      get(
        `/analytics/stats?flagKey=checkout&environment=production&granularity=minute&from=${new Date(now - 3 * 86_400_000).toISOString()}&to=${new Date(now).toISOString()}`,
      ),
      get('/analytics/stats?flagKey=checkout&environment=production&from=yesterday'),
      get('/analytics/stats?flagKey=checkout&environment=production&colour=red'),
      get('/analytics/events?environment=production&limit=5000'),
      app.inject({
        method: 'POST',
        url: '/analytics/query',
        headers: { authorization: `Bearer ${viewer}` },
        payload: { environment: 'production', groupBy: ['colour'] },
      }),
      app.inject({
        method: 'POST',
        url: '/analytics/query',
        headers: { authorization: `Bearer ${viewer}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ environment: 'production', pad: 'x'.repeat(70_000) }),
      }),
    ];
    for (const res of await Promise.all(cases)) {
      expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('needs a viewer token', async () => {
    expect((await app.inject({ method: 'GET', url: '/analytics/stats?flagKey=checkout&environment=production' })).statusCode).toBe(401);
  });

  it('never returns an expired event, even before the store removes it', async () => {
    await store.writeBatch(batch('batch-old', [['old-flag', 'production', 'on', 'STATIC', null, null, now - 5 * minute]]), 2 * minute);
    const res = await get('/analytics/events?environment=production&flagKey=old-flag');
    expect(res.json<{ items: unknown[] }>().items).toEqual([]);
  });
});
