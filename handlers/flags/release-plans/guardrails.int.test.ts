import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../../shared/testing/redis-server.ts';
import { until } from '../../../shared/testing/until.ts';
import { createDynamoAnalyticsStore } from '../../analytics/analytics-store.dynamo.ts';
import { startPlatformWithAws, type Platform } from '../../testing/platform.ts';
import type { GuardrailCheck } from './release-plan.ts';

interface Plan {
  id: string;
  status: string;
  outcome: string | null;
  guardrailChecks: GuardrailCheck[];
}

/** A seeded generator (mulberry32): the same users make the same errors on every run. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Guardrails on the real path: applications' metric events go through the evaluation service's tracking endpoint,
 * the SQS stand-in, the analytics worker and the DynamoDB stand-in; the release worker reads the sums, judges the
 * plans, and rolls back the harmful release — not the harmless one.
 */
describe('release guardrails end to end', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let stack: Awaited<ReturnType<typeof startPlatformWithAws>>;
  let platform: Platform;

  beforeAll(async () => {
    redis = await startRedisServer();
    stack = await startPlatformWithAws({
      redisUrl: redis.url,
      overrides: { EVENTS_FLUSH_INTERVAL_MS: '200', RELEASE_GUARDRAIL_CHECK_MS: '1000' },
    });
    platform = stack.platform;
    await platform.startWorker('analytics-worker');
    await platform.startWorker('release-worker');
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await redis?.stop();
  });

  const evaluation = () => platform.evaluations[0]!.url;
  const sdk = (path: string, init: RequestInit = {}) =>
    fetch(`${evaluation()}${path}`, { ...init, headers: { 'content-type': 'application/json', 'x-api-key': platform.sdkKey } });
  const release = async (key: string) => {
    const created = await platform.call('POST', `${platform.urls.flags}/flags`, {
      key,
      name: key,
      type: 'boolean',
      environments: { production: { enabled: true, defaultServe: { variant: 'off' } } },
    });
    expect(created.status).toBe(201);
    const started = await platform.call<Plan>('POST', `${platform.urls.flags}/flags/${key}/environments/production/release-plans`, {
      milestones: [
        {
          serve: {
            rollout: [
              { variant: 'on', weight: 50 },
              { variant: 'off', weight: 50 },
            ],
          },
          holdSeconds: 3600,
        },
        { serve: { variant: 'on' }, holdSeconds: 60 },
      ],
      guardrails: [{ metric: 'checkout-error', treatment: 'on', control: 'off', maxDifference: 0.01 }],
    });
    expect(started.status).toBe(201);
    return started.body.id;
  };
  const planOf = async (key: string) =>
    (await platform.call<{ items: Plan[] }>('GET', `${platform.urls.flags}/flags/${key}/release-plans`)).body.items[0]!;

  it('rolls back the release whose treatment errs 5 % against 1 %, and keeps the one with equal errors going', async () => {
    const harmful = await release('new-checkout');
    await release('new-search');
    // Both flags serve 50/50 on every evaluation instance before users arrive.
    await until(async () => {
      const answer = (await (await sdk('/evaluate/bulk?targetingKey=probe')).json()) as { flags: { reason: string }[] };
      return answer.flags.filter((r) => r.reason === 'SPLIT').length === 2;
    });
    const next = random(17);
    const users = 3_000;
    const sent = { 'new-checkout': { on: [0, 0], off: [0, 0] }, 'new-search': { on: [0, 0], off: [0, 0] } };
    let events: object[] = [];
    for (let i = 0; i < users; i++) {
      const targetingKey = `user-${i}`;
      const { flags: results } = (await (await sdk(`/evaluate/bulk?targetingKey=${targetingKey}`)).json()) as {
        flags: { flagKey: string; variant: 'on' | 'off' }[];
      };
      for (const { flagKey, variant } of results) {
        if (flagKey !== 'new-checkout' && flagKey !== 'new-search') continue;
        const errorRate = flagKey === 'new-checkout' && variant === 'on' ? 0.05 : 0.01;
        const value = next() < errorRate ? 1 : 0;
        sent[flagKey][variant][0]! += 1;
        sent[flagKey][variant][1]! += value;
        // The harmful release's application says which variant it served; the other's lets the service join it.
        events.push(
          flagKey === 'new-checkout'
            ? { name: 'checkout-error', flagKey, variant, value }
            : { name: 'checkout-error', flagKey, value, context: { targetingKey } },
        );
      }
      if (events.length >= 1_000 || i === users - 1) {
        const tracked = await sdk('/events/v1/track', { method: 'POST', body: JSON.stringify({ events }) });
        expect(tracked.status).toBe(202);
        events = [];
      }
    }

    // Every event is summed exactly (the join on the exposure attributed the second flag's to the same variants).
    const analytics = createDynamoAnalyticsStore(stack.dynamo, stack.table);
    const summed = async (flagKey: string) => {
      const byVariant: Record<string, number[]> = {};
      for (const row of await analytics.metricRows({ environment: 'production', flagKey, from: Date.now() - 3_600_000, to: Date.now() })) {
        const arm = (byVariant[row.variant] ??= [0, 0]);
        arm[0]! += row.count;
        arm[1]! += row.sum;
      }
      return byVariant;
    };
    for (const key of ['new-checkout', 'new-search'] as const)
      await until(async () => JSON.stringify(await summed(key)) === JSON.stringify({ off: sent[key].off, on: sent[key].on }), {
        limitMs: 20_000,
        everyMs: 200,
      });

    await until(async () => (await planOf('new-checkout')).status === 'rolled-back', { limitMs: 20_000, everyMs: 200 });
    const rolledBack = await planOf('new-checkout');
    expect(rolledBack.id).toBe(harmful);
    expect(rolledBack.outcome).toMatch(/^guardrail "checkout-error" breached: on 0\.0\d+ \(n=\d+\) vs off 0\.0\d+/);
    const bulk = (await (await sdk('/evaluate/bulk?targetingKey=after')).json()) as { flags: { flagKey: string; variant: string }[] };
    expect(bulk.flags.find((r) => r.flagKey === 'new-checkout')?.variant).toBe('off');

    // The harmless release was judged on all of its events and holds.
    await until(async () => (await planOf('new-search')).guardrailChecks[0]?.treatment.count === sent['new-search'].on[0], {
      limitMs: 10_000,
      everyMs: 200,
    });
    const holding = await planOf('new-search');
    expect(holding.status).toBe('active');
    expect(holding.guardrailChecks[0]).toMatchObject({ verdict: 'no-breach-yet', control: { count: sent['new-search'].off[0] } });
  });
});
