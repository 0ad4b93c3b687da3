import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { startPlatform, type Platform } from '../testing/platform.ts';
import { startRedisServer } from '../../shared/testing/redis-server.ts';
import type { StartedService } from '../../shared/runtime/service.ts';
import { until as waitUntil } from '../../shared/testing/until.ts';

/**
 * The write path end to end on real servers: a change made through the flags or targeting API reaches every
 * evaluation instance through PostgreSQL (outbox), Redis (cache and pub/sub) and the instances' memory.
 */
describe('configuration changes reach every evaluation instance', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let platform: Platform;
  let ruleId: string;

  const evaluate = async (instance: StartedService, country: string) => {
    const response = await fetch(`${instance.url}/ofrep/v1/evaluate/flags/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': platform.sdkKey },
      body: JSON.stringify({ context: { targetingKey: 'user-1', country } }),
    });
    return (await response.json()) as { variant?: string; reason?: string };
  };

  /** Polls every instance until each serves `variant` for Brazil; returns how long that took. */
  const until = async (instances: StartedService[], variant: string, limitMs = 5_000) => {
    const started = performance.now();
    for (;;) {
      const answers = await Promise.all(instances.map((i) => evaluate(i, 'BR')));
      if (answers.every((a) => a.variant === variant)) return performance.now() - started;
      if (performance.now() - started > limitMs) throw new Error(`not every instance serves ${variant}: ${JSON.stringify(answers)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const setServe = async (variant: string) => {
    const res = await platform.call('PUT', `${platform.urls.targeting}/targeting/rules/${ruleId}`, {
      conditions: [{ attribute: 'country', operator: 'eq', values: ['BR'] }],
      serve: { variant },
    });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    platform = await startPlatform({ redisUrl: redis.url, evaluationInstances: 2 });
    const flag = await platform.call('POST', `${platform.urls.flags}/flags`, {
      key: 'checkout',
      name: 'Checkout',
      type: 'boolean',
      environments: { production: { enabled: true } },
    });
    expect(flag.status).toBe(201);
    const rule = await platform.call<{ id: string }>('POST', `${platform.urls.targeting}/targeting/rules`, {
      flagKey: 'checkout',
      environment: 'production',
      conditions: [{ attribute: 'country', operator: 'eq', values: ['BR'] }],
      serve: { variant: 'off' },
    });
    expect(rule.status).toBe(201);
    ruleId = rule.body.id;
    await until(platform.evaluations, 'off');
  }, 60_000);

  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  it('serves a rule change on both instances within 1 s', async () => {
    await setServe('on');
    const elapsed = await until(platform.evaluations, 'on');
    expect(elapsed).toBeLessThan(1_000);
    await setServe('off');
    expect(await until(platform.evaluations, 'off')).toBeLessThan(1_000);
  });

  it('serves a flag change (kill switch) on both instances within 1 s', async () => {
    const off = await platform.call('PATCH', `${platform.urls.flags}/flags/checkout/environments/production`, { enabled: false });
    expect(off.status).toBe(200);
    const started = performance.now();
    for (;;) {
      const answers = await Promise.all(platform.evaluations.map((i) => evaluate(i, 'BR')));
      if (answers.every((a) => a.reason === 'DISABLED')) break;
      if (performance.now() - started > 5_000) throw new Error(JSON.stringify(answers));
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(performance.now() - started).toBeLessThan(1_000);
    await platform.call('PATCH', `${platform.urls.flags}/flags/checkout/environments/production`, { enabled: true });
    await until(platform.evaluations, 'off');
  });

  it('keeps answering while Redis is down, and serves a change made meanwhile within 1 s of Redis coming back', async () => {
    await redis.stop();
    // Evaluation answers from memory; readiness says degraded, not down.
    expect((await evaluate(platform.evaluations[0]!, 'BR')).variant).toBe('off');
    const ready = await fetch(`${platform.evaluations[0]!.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'degraded' });

    await setServe('on'); // committed in PostgreSQL; the outbox keeps it until Redis is back
    await new Promise((r) => setTimeout(r, 300));
    expect((await evaluate(platform.evaluations[1]!, 'BR')).variant).toBe('off');

    await redis.start(); // empty, as a restarted Redis is: the owners reseed it
    const elapsed = await until(platform.evaluations, 'on');
    expect(elapsed).toBeLessThan(1_000);
  });

  it('serves the current configuration on an instance that was down when the change was made', async () => {
    const [first, second] = platform.evaluations;
    await platform.stopService(second!);
    await setServe('off');
    await until([first!], 'off');
    const restarted = await platform.startEvaluation();
    platform.evaluations[1] = restarted;
    expect((await evaluate(restarted, 'BR')).variant).toBe('off');
  });

  it('works with the official OpenFeature Node SDK and its OFREP provider, unchanged', async () => {
    await OpenFeature.setProviderAndWait(
      new OFREPProvider({ baseUrl: platform.evaluations[0]!.url, headers: [['X-API-Key', platform.sdkKey]] }),
    );
    const client = OpenFeature.getClient();
    const brazil = await client.getBooleanDetails('checkout', true, { targetingKey: 'user-1', country: 'BR' });
    expect(brazil).toMatchObject({ value: false, variant: 'off', reason: 'TARGETING_MATCH' });
    const elsewhere = await client.getBooleanDetails('checkout', false, { targetingKey: 'user-1', country: 'FR' });
    // OFREP has no DEFAULT: the default variant is STATIC there, the engine's reason in the flag metadata.
    expect(elsewhere).toMatchObject({ value: true, variant: 'on', reason: 'STATIC', flagMetadata: { reason: 'DEFAULT' } });
    const missing = await client.getStringDetails('no-such-flag', 'fallback', { targetingKey: 'user-1' });
    expect(missing).toMatchObject({ value: 'fallback', errorCode: 'FLAG_NOT_FOUND' });
    const wrongType = await client.getNumberDetails('checkout', 7, { targetingKey: 'user-1' });
    expect(wrongType).toMatchObject({ value: 7, errorCode: 'TYPE_MISMATCH' });
    await OpenFeature.close();
  });

  it('accepts a new SDK key and refuses a revoked one on every instance within 1 s', async () => {
    const created = await platform.call<{ id: string; key: string }>('POST', `${platform.urls.auth}/auth/api-keys`, {
      environment: 'production',
      name: 'short-lived',
    });
    expect(created.status).toBe(201);
    const ask = (instance: StartedService) =>
      fetch(`${instance.url}/evaluate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': created.body.key },
        body: JSON.stringify({ flagKey: 'checkout', context: { targetingKey: 'u' } }),
      });
    const everyInstanceAnswers = (status: number) =>
      waitUntil(async () => (await Promise.all(platform.evaluations.map(ask))).every((r) => r.status === status));
    expect(await everyInstanceAnswers(200)).toBeLessThan(1_000);
    expect((await platform.call('DELETE', `${platform.urls.auth}/auth/api-keys/${created.body.id}`)).status).toBe(204);
    expect(await everyInstanceAnswers(401)).toBeLessThan(1_000);
  });
});
