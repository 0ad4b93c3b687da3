import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/logging/logger.ts';
import { type EventBatch } from '../../shared/events/evaluation-event.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { testTokens } from '../../shared/testing/tokens.ts';
import { buildAnalyticsApp, createAnalyticsStore } from './analytics-app.ts';
import { fixedFlagProjects } from './fixed-flag-projects.ts';

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
      projects: fixedFlagProjects({ checkout: 'default', banner: 'default' }),
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

describe('analytics of projects', () => {
  const store = createAnalyticsStore();
  let app: Awaited<ReturnType<typeof buildAnalyticsApp>>['app'];
  /** An account viewer: the default project's viewer, no other project. */
  let viewer: string;
  /** A viewer of beta by membership (and of the default project by account). */
  let betaViewer: string;
  let admin: string;

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    viewer = await tokenFor('viewer');
    betaViewer = await tokenFor('viewer', 'b@example.com', '00000000-0000-4000-8000-0000000000b1', { beta: 'viewer' });
    admin = await tokenFor('admin');
    ({ app } = await buildAnalyticsApp({
      config: testConfig(),
      logger: createLogger('silent', 'analytics'),
      store,
      verifier,
      projects: fixedFlagProjects({ checkout: 'default', 'pay-b': 'beta' }, ['default', 'beta']),
      now: () => now,
    }));
    await store.writeBatch(
      batch('projects', [
        ['checkout', 'production', 'on', 'STATIC', null, 'k1', now - 3 * minute],
        ['pay-b', 'production', 'on', 'TARGETING_MATCH', 'r1', 'k1', now - 2 * minute],
        ['pay-b', 'production', 'off', 'DEFAULT', null, 'k2', now - minute],
        // A flag no project holds any more (purged): nobody's to read.
        ['purged', 'production', 'on', 'STATIC', null, 'k3', now - minute],
      ]),
      30 * 86_400_000,
    );
  });
  afterAll(() => app.close());

  const get = (url: string, token: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  const query = (token: string, payload: object, search = '') =>
    app.inject({ method: 'POST', url: `/analytics/query${search}`, headers: { authorization: `Bearer ${token}` }, payload });
  const range = `from=${new Date(now - 15 * minute).toISOString()}&to=${new Date(now).toISOString()}`;

  it('shows a flag’s stats and metrics only to viewers of its project', async () => {
    const refused = await get(`/analytics/stats?flagKey=pay-b&environment=production&${range}`, viewer);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'FORBIDDEN', detail: 'You have no role in project beta' });
    expect((await get(`/analytics/metrics?flagKey=pay-b&environment=production`, viewer)).statusCode).toBe(403);
    const shown = await get(`/analytics/stats?flagKey=pay-b&environment=production&${range}`, betaViewer);
    expect(shown.statusCode, shown.body).toBe(200);
    expect(shown.json()).toMatchObject({ totals: { on: 1, off: 1 }, total: 2 });
    expect((await get(`/analytics/metrics?flagKey=pay-b&environment=production`, betaViewer)).statusCode).toBe(200);
    // The default project's flags as before.
    expect((await get(`/analytics/stats?flagKey=checkout&environment=production&${range}`, viewer)).json()).toMatchObject({ total: 1 });
  });

  it('answers a flag that is not there, or not of the project named, as a flag with no events', async () => {
    const purged = await get(`/analytics/stats?flagKey=purged&environment=production&${range}`, admin);
    expect(purged.statusCode).toBe(200);
    expect(purged.json()).toMatchObject({ total: 0 });
    expect((await get(`/analytics/events?environment=production&flagKey=purged`, admin)).json()).toEqual({ items: [], nextCursor: null });
    const elsewhere = await get(`/analytics/stats?flagKey=pay-b&environment=production&project=default&${range}`, admin);
    expect(elsewhere.json()).toMatchObject({ total: 0 });
  });

  it('lists events and counts over many flags of one project only (?project=, the default project when absent)', async () => {
    const keysOf = (res: { json: <T>() => T }) => res.json<{ items: { flagKey: string }[] }>().items.map((e) => e.flagKey);
    expect(keysOf(await get('/analytics/events?environment=production', viewer))).toEqual(['checkout']);
    expect(keysOf(await get('/analytics/events?environment=production&project=beta', betaViewer))).toEqual(['pay-b', 'pay-b']);
    expect((await get('/analytics/events?environment=production&project=beta', viewer)).statusCode).toBe(403);
    expect((await get('/analytics/events?environment=production&flagKey=pay-b', viewer)).statusCode).toBe(403);
    // Pages are filled with the project's events, not cut short by others'.
    const page = await get('/analytics/events?environment=production&project=beta&limit=1', betaViewer);
    expect(keysOf(page)).toEqual(['pay-b']);
    expect(page.json<{ nextCursor: string | null }>().nextCursor).not.toBeNull();

    const byFlag = { environment: 'production', groupBy: ['flagKey'] };
    expect((await query(viewer, byFlag)).json()).toEqual({ groups: [{ flagKey: 'checkout', count: 1 }], total: 1 });
    expect((await query(betaViewer, byFlag, '?project=beta')).json()).toEqual({ groups: [{ flagKey: 'pay-b', count: 2 }], total: 2 });
    expect((await query(viewer, byFlag, '?project=beta')).statusCode).toBe(403);
    expect((await query(viewer, { ...byFlag, flagKey: 'pay-b' })).statusCode).toBe(403);
    expect((await query(betaViewer, { ...byFlag, flagKey: 'pay-b' })).json()).toMatchObject({ total: 2 });
  });

  it('answers 404 for a project that is not there, and 4xx for a malformed one', async () => {
    const missing = await get('/analytics/events?environment=production&project=nowhere', admin);
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect((await query(admin, { environment: 'production' }, '?project=nowhere')).statusCode).toBe(404);
    for (const res of [
      await get('/analytics/events?environment=production&project=Not%20A%20Project', admin),
      await get('/analytics/stats?flagKey=Not..a..key&environment=production', viewer),
      await query(viewer, { environment: 'production', flagKey: 42 }),
      await query(admin, { environment: 'production' }, '?project=no/such'),
    ]) {
      expect(res.statusCode, res.body).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
    }
  });
});
