import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlatform, type Platform } from '../testing/platform.ts';
import { startRedisServer } from '../../shared/testing/redis-server.ts';
import type { StartedService } from '../../shared/runtime/service.ts';
import { until } from '../../shared/testing/until.ts';

/**
 * Evaluation's first promise: it keeps answering while anything upstream is down (auth, Redis), from what it
 * holds, and catches up within a second when it returns. Real servers, multi-process shape, bounded in time.
 */
describe('evaluation through outages', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let platform: Platform;

  const evaluate = async (instance: StartedService, key = platform.sdkKey) => {
    const response = await fetch(`${instance.url}/ofrep/v1/evaluate/flags/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key },
      body: JSON.stringify({ context: { targetingKey: 'user-1' } }),
    });
    // OFREP's 401, 403 and 429 have no body.
    const text = await response.text();
    return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as { value?: unknown; variant?: string } };
  };

  /** Evaluates on every instance every `everyMs` for `ms`; every answer must be a 200 serving `variant`. */
  const keepsServing = async (variant: string, ms: number, everyMs = 250) => {
    const until = performance.now() + ms;
    let answers = 0;
    while (performance.now() < until) {
      for (const instance of platform.evaluations) {
        const answer = await evaluate(instance);
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        expect(answer.body.variant).toBe(variant);
        answers += 1;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
    return answers;
  };

  /** How long until every instance serves `variant`. */
  const everyInstanceServes = (variant: string) =>
    until(async () =>
      (await Promise.all(platform.evaluations.map((i) => evaluate(i)))).every((a) => a.status === 200 && a.body.variant === variant),
    );

  const setDefault = async (variant: string) => {
    const res = await platform.call('PATCH', `${platform.urls.flags}/flags/checkout/environments/production`, {
      defaultServe: { variant },
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    platform = await startPlatform({ redisUrl: redis.url, evaluationInstances: 2, databaseProxy: true });
    const flag = await platform.call('POST', `${platform.urls.flags}/flags`, {
      key: 'checkout',
      name: 'Checkout',
      type: 'boolean',
      environments: { production: { enabled: true, defaultServe: { variant: 'off' } } },
    });
    expect(flag.status).toBe(201);
    await everyInstanceServes('off');
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  it('keeps answering for 15 s with the auth service down, and refuses an unknown key from memory', async () => {
    await platform.stopService(platform.auth);
    expect(await keepsServing('off', 15_000)).toBeGreaterThan(50);
    expect((await evaluate(platform.evaluations[0]!, 'tm_not-a-key')).status).toBe(401);
    // Changes still propagate: auth is not on the configuration's path.
    await setDefault('on');
    expect(await everyInstanceServes('on')).toBeLessThan(1_000);
    await platform.restartAuth();
  }, 40_000);

  it('keeps answering for 10 s with Redis down, and serves a change made meanwhile within 1 s of Redis coming back', async () => {
    await redis.stop();
    const during = keepsServing('on', 10_000);
    await new Promise((r) => setTimeout(r, 2_000));
    await setDefault('off'); // committed; the outbox holds it until Redis is back
    await during;
    await redis.start(); // empty, as a restarted Redis is: every owner reseeds it
    expect(await everyInstanceServes('off')).toBeLessThan(1_000);
    // SDK keys survived too: auth reseeded them, and the instances kept theirs meanwhile.
    expect((await evaluate(platform.evaluations[1]!)).status).toBe(200);
  }, 40_000);

  it('keeps answering with PostgreSQL unreachable; writes and sign-in answer 503 with Retry-After, and work again after', async () => {
    const database = platform.database!;
    database.cut();
    try {
      const during = keepsServing('off', 5_000);
      const write = await fetch(`${platform.urls.flags}/flags/checkout/environments/production`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${platform.adminToken}` },
        body: JSON.stringify({ defaultServe: { variant: 'on' } }),
      });
      expect(write.status).toBe(503);
      expect(write.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await write.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      const signIn = await fetch(`${platform.urls.auth}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@example.com', password: 'platform-admin-password' }),
      });
      expect(signIn.status).toBe(503);
      expect(signIn.headers.get('retry-after')).toMatch(/^\d+$/);
      await during;
    } finally {
      database.restore();
    }
    // Nothing was written while it was down; the same change now goes through and reaches every instance.
    const started = performance.now();
    for (;;) {
      const res = await platform.call('PATCH', `${platform.urls.flags}/flags/checkout/environments/production`, {
        defaultServe: { variant: 'on' },
      });
      if (res.status === 200) break;
      if (performance.now() - started > 10_000) throw new Error(`writes still fail after the database returned: ${res.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await everyInstanceServes('on')).toBeLessThan(1_000);
  }, 40_000);
});
