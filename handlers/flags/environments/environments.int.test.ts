import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../../shared/testing/redis-server.ts';
import { until } from '../../../shared/testing/until.ts';
import { startPlatform, type Platform } from '../../testing/platform.ts';

/**
 * Environments as data across the services: one made through the flags API takes SDK keys (auth asks flags which
 * environments there are), rules (targeting reads them off the flag) and evaluates every flag (off) at once; it is
 * deleted only once its keys are revoked.
 */
describe('environments as data, end to end', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let platform: Platform;

  const evaluate = async (sdkKey: string, flagKey: string) => {
    const response = await fetch(`${platform.evaluations[0]!.url}/ofrep/v1/evaluate/flags/${flagKey}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': sdkKey },
      body: JSON.stringify({ context: { targetingKey: 'user-1' } }),
    });
    const text = await response.text();
    // Until the new key reaches the instance it is refused (401), perhaps with no body.
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as { value?: unknown; reason?: string; errorCode?: string } };
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    platform = await startPlatform({ redisUrl: redis.url, evaluationInstances: 1 });
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  it('creates an environment that takes SDK keys and rules and evaluates every flag, then deletes it once empty', async () => {
    const flag = await platform.call('POST', `${platform.urls.flags}/flags`, { key: 'banner', name: 'Banner', type: 'boolean' });
    expect(flag.status).toBe(201);
    const refusedKey = await platform.call('POST', `${platform.urls.auth}/auth/api-keys`, { environment: 'staging', name: 'early' });
    expect(refusedKey.status).toBe(400);

    expect((await platform.call('POST', `${platform.urls.flags}/flags/environments`, { key: 'staging' })).status).toBe(201);
    const key = await platform.call<{ id: string; key: string }>('POST', `${platform.urls.auth}/auth/api-keys`, {
      environment: 'staging',
      name: 'staging app',
    });
    expect(key.status).toBe(201);
    // The flag made before the environment is there, off, as soon as the key is known.
    await until(async () => (await evaluate(key.body.key, 'banner')).body.reason === 'DISABLED', { limitMs: 5_000, everyMs: 50 });
    expect((await evaluate(key.body.key, 'banner')).body).toMatchObject({ value: false, reason: 'DISABLED' });

    const rule = await platform.call<{ id: string }>('POST', `${platform.urls.targeting}/targeting/rules`, {
      flagKey: 'banner',
      environment: 'staging',
      conditions: [{ attribute: 'targetingKey', operator: 'eq', values: ['user-1'] }],
      serve: { variant: 'on' },
    });
    expect(rule.status).toBe(201);
    expect(
      (
        await platform.call('POST', `${platform.urls.targeting}/targeting/rules`, {
          flagKey: 'banner',
          environment: 'qa',
          conditions: [],
          serve: { variant: 'on' },
        })
      ).status,
    ).toBe(400);
    expect((await platform.call('PATCH', `${platform.urls.flags}/flags/banner/environments/staging`, { enabled: true })).status).toBe(200);
    await until(async () => (await evaluate(key.body.key, 'banner')).body.value === true, { limitMs: 5_000, everyMs: 50 });

    const notEmpty = await platform.call<{ detail: string }>('DELETE', `${platform.urls.flags}/flags/environments/staging`);
    expect(notEmpty.status).toBe(409);
    expect(notEmpty.body.detail).toMatch(/flags on there: banner; targeting rules of banner; live SDK keys: staging app/);

    expect((await platform.call('PATCH', `${platform.urls.flags}/flags/banner/environments/staging`, { enabled: false })).status).toBe(200);
    expect((await platform.call('DELETE', `${platform.urls.targeting}/targeting/rules/${rule.body.id}`)).status).toBe(204);
    expect((await platform.call('DELETE', `${platform.urls.auth}/auth/api-keys/${key.body.id}`)).status).toBe(204);
    expect((await platform.call('DELETE', `${platform.urls.flags}/flags/environments/staging`)).status).toBe(204);
    const after = await platform.call<{ environments: Record<string, unknown> }>('GET', `${platform.urls.flags}/flags/banner`);
    expect(Object.keys(after.body.environments)).toEqual(['development', 'production']);
  }, 30_000);
});
