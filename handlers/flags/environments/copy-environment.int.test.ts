import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../../shared/testing/redis-server.ts';
import { until } from '../../../shared/testing/until.ts';
import { startPlatform, type Platform } from '../../testing/platform.ts';

/**
 * Promoting staging to production across the services: the flags service checks the copy, targeting copies the rules
 * (its audit and outbox), flags writes the state (its audit and outbox), and evaluation in production then answers
 * every user as staging does — the same rule, the same rollout buckets (the flag's salt).
 */
describe("copying a flag's environment state, end to end", () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let platform: Platform;

  type Answer = { value?: unknown; variant?: string; reason?: string };
  const evaluate = async (sdkKey: string, targetingKey: string): Promise<Answer> => {
    const response = await fetch(`${platform.evaluations[0]!.url}/ofrep/v1/evaluate/flags/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': sdkKey },
      body: JSON.stringify({ context: { targetingKey } }),
    });
    const text = await response.text();
    const body = (text ? JSON.parse(text) : {}) as Answer;
    return { value: body.value, variant: body.variant, reason: body.reason };
  };
  const users = ['vip-1', ...Array.from({ length: 40 }, (_, i) => `user-${i}`)];
  const answersIn = (sdkKey: string) => Promise.all(users.map((user) => evaluate(sdkKey, user)));

  beforeAll(async () => {
    redis = await startRedisServer();
    platform = await startPlatform({ redisUrl: redis.url, evaluationInstances: 1 });
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  it('makes production answer as staging does, with one audit entry in each service', async () => {
    const { flags, targeting, auth } = platform.urls;
    expect((await platform.call('POST', `${flags}/flags/environments`, { key: 'staging' })).status).toBe(201);
    const stagingKey = await platform.call<{ key: string }>('POST', `${auth}/auth/api-keys`, {
      environment: 'staging',
      name: 'staging app',
    });
    expect(stagingKey.status).toBe(201);
    const created = await platform.call<{ version: number }>('POST', `${flags}/flags`, {
      key: 'checkout',
      name: 'Checkout',
      type: 'string',
      variants: [
        { key: 'old', value: 'old' },
        { key: 'new', value: 'new' },
      ],
      environments: {
        staging: {
          enabled: true,
          offVariant: 'old',
          defaultServe: {
            rollout: [
              { variant: 'old', weight: 50 },
              { variant: 'new', weight: 50 },
            ],
          },
        },
      },
    });
    expect(created.status).toBe(201);
    const rule = await platform.call('POST', `${targeting}/targeting/rules`, {
      flagKey: 'checkout',
      environment: 'staging',
      name: 'VIPs get new',
      conditions: [{ attribute: 'targetingKey', operator: 'starts_with', values: ['vip-'] }],
      serve: { variant: 'new' },
    });
    expect(rule.status).toBe(201);

    // Staging: the rule for the VIP, the rollout (both variants) for everyone else. Production: off.
    await until(async () => (await evaluate(stagingKey.body.key, 'vip-1')).reason === 'TARGETING_MATCH', { limitMs: 5_000, everyMs: 50 });
    const staging = await answersIn(stagingKey.body.key);
    expect(staging[0]).toMatchObject({ value: 'new', reason: 'TARGETING_MATCH' });
    expect(new Set(staging.slice(1).map((a) => a.variant))).toEqual(new Set(['old', 'new']));
    expect(await evaluate(platform.sdkKey, 'vip-1')).toMatchObject({ value: 'old', reason: 'DISABLED' });

    const copied = await fetch(`${flags}/flags/checkout/environments/production/copy`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${platform.adminToken}`,
        'if-match': `"${created.body.version}"`,
      },
      body: JSON.stringify({ from: 'staging' }),
    });
    expect(copied.status, await copied.clone().text()).toBe(200);
    expect(copied.headers.get('etag')).toBe(`"${created.body.version + 1}"`);

    // Within a second or so every instance has both changes: production answers each user as staging does.
    await until(async () => JSON.stringify(await answersIn(platform.sdkKey)) === JSON.stringify(staging), { limitMs: 5_000, everyMs: 100 });
    expect(await answersIn(platform.sdkKey)).toEqual(staging);

    const history = await platform.call<{ items: { action: string; environment: string; cause?: unknown }[] }>(
      'GET',
      `${flags}/flags/checkout/history`,
    );
    expect(history.body.items[0]).toMatchObject({
      action: 'environment-updated',
      environment: 'production',
      cause: { copiedFrom: 'staging' },
    });
    const rules = await platform.call<{ items: { action: string; environment: string; after: { name: string } }[] }>(
      'GET',
      `${targeting}/targeting/history?flagKey=checkout`,
    );
    expect(rules.body.items[0]).toMatchObject({ action: 'created', environment: 'production', after: { name: 'VIPs get new' } });

    // The same copy again is refused as stale: the flag moved on to the version the copy made.
    const stale = await fetch(`${flags}/flags/checkout/environments/production/copy`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${platform.adminToken}`,
        'if-match': `"${created.body.version}"`,
      },
      body: JSON.stringify({ from: 'staging' }),
    });
    expect(stale.status).toBe(412);
  }, 30_000);
});
