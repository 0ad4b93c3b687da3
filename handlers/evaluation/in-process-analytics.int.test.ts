import { OpenFeature } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ToggleMasterProvider } from '../../packages/openfeature-provider/src/index.ts';
import { startRedisServer } from '../../shared/testing/redis-server.ts';
import { until } from '../../shared/testing/until.ts';
import { createDynamoAnalyticsStore } from '../analytics/analytics-store.dynamo.ts';
import { startPlatformWithAws, type Platform } from '../testing/platform.ts';

/**
 * Issue 16's promise on the real path: the in-process provider's evaluations — reported raw up to its bound and
 * counted beyond it — travel the evaluation service's ingestion endpoint, the SQS stand-in and the analytics worker
 * to DynamoDB, and a million local evaluations are a million counted, per variant.
 */
describe('in-process evaluations in the analytics', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let stack: Awaited<ReturnType<typeof startPlatformWithAws>>;
  let platform: Platform;

  beforeAll(async () => {
    redis = await startRedisServer();
    stack = await startPlatformWithAws({ redisUrl: redis.url });
    platform = stack.platform;
    await platform.startWorker('analytics-worker');
  }, 60_000);
  afterAll(async () => {
    await OpenFeature.close();
    await stack?.stop();
    await redis?.stop();
  });

  it('counts 1,000,000 local evaluations exactly once the provider is closed', async () => {
    const created = await platform.call('POST', `${platform.urls.flags}/flags`, {
      key: 'local-checkout',
      name: 'Local checkout',
      type: 'boolean',
      environments: {
        production: {
          enabled: true,
          defaultServe: {
            rollout: [
              { variant: 'on', weight: 25 },
              { variant: 'off', weight: 75 },
            ],
          },
        },
      },
    });
    expect(created.status).toBe(201);
    const provider = new ToggleMasterProvider({ baseUrl: platform.evaluations[0]!.url, sdkKey: platform.sdkKey });
    await until(async () => {
      await OpenFeature.setProviderAndWait(provider);
      return provider.stats().sync.flags > 0;
    });
    const client = OpenFeature.getClient();
    const n = 1_000_000;
    const served = { on: 0, off: 0 };
    for (let i = 0; i < n; i++) {
      const on = await client.getBooleanValue('local-checkout', false, { targetingKey: `user-${i % 10_000}` });
      served[on ? 'on' : 'off'] += 1;
    }
    await OpenFeature.close();
    const { evaluations } = provider.stats();
    expect(evaluations).toMatchObject({ recorded: n, sent: n, dropped: 0 });

    const analytics = createDynamoAnalyticsStore(stack.dynamo, stack.table);
    const counted = async () => {
      const byVariant: Record<string, number> = {};
      for (const row of await analytics.countRows({
        environment: 'production',
        flagKey: 'local-checkout',
        from: Date.now() - 3_600_000,
        to: Date.now() + 60_000,
      }))
        byVariant[row.variant ?? 'null'] = (byVariant[row.variant ?? 'null'] ?? 0) + row.count;
      return byVariant;
    };
    await until(async () => ((await counted()).on ?? 0) + ((await counted()).off ?? 0) >= n, { limitMs: 60_000, everyMs: 500 });
    // Settled: nothing more arrives (a batch sent twice would show here).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await counted()).toEqual(served);
  }, 180_000);
});
