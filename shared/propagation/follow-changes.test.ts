import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger } from '../logging/logger.ts';
import { until } from '../testing/until.ts';
import type { ConfigChange } from './config-change.ts';
import { followChanges } from './follow-changes.ts';
import { createMemoryConfigCache } from './memory-config-cache.ts';

const logger = createLogger('silent', 'test');

describe('following configuration changes', () => {
  it('measures each change from its commit to being applied here, and shows a breach of the 1 s promise', async () => {
    const cache = createMemoryConfigCache();
    const metrics = new Registry();
    const applied: ConfigChange[] = [];
    const follower = await followChanges({
      name: 'test',
      cache,
      logger,
      metrics,
      apply: async (change) => void applied.push(change),
      reload: async () => {},
    });
    try {
      await cache.publish({ kind: 'flag', key: 'fresh', at: new Date().toISOString() });
      await cache.publish({ kind: 'flag', key: 'late', at: new Date(Date.now() - 5_000).toISOString() });
      await until(() => applied.length === 2);
      const histogram = await metrics.getSingleMetricAsString('config_change_propagation_seconds');
      expect(histogram).toContain('config_change_propagation_seconds_count{replica="test"} 2');
      // One within the second, one (committed 5 s ago) beyond it: the breach is there to alert on.
      expect(histogram).toContain('config_change_propagation_seconds_bucket{le="1",replica="test"} 1');
      expect(await metrics.getSingleMetricAsString('config_replica_changes_applied_total')).toContain(
        'config_replica_changes_applied_total{replica="test"} 2',
      );
    } finally {
      await follower.stop();
    }
  });

  it('falls behind when a change cannot be applied, says so on /metrics, and catches up by reloading', async () => {
    const cache = createMemoryConfigCache();
    const metrics = new Registry();
    let cacheAway = true;
    let reloads = 0;
    const follower = await followChanges({
      name: 'test',
      cache,
      logger,
      metrics,
      retryMs: 10,
      apply: async () => {
        if (cacheAway) throw new Error('connect ECONNREFUSED');
      },
      reload: async () => {
        reloads += 1;
        if (cacheAway) throw new Error('connect ECONNREFUSED');
      },
    });
    const behind = async () =>
      (await metrics.getSingleMetric('config_replica_behind')!.get()).values.find((v) => v.labels.replica === 'test')?.value;
    try {
      expect(await behind()).toBe(0);
      await cache.publish({ kind: 'segment', key: 'beta' });
      await until(() => follower.behind);
      expect(await behind()).toBe(1);
      await until(() => reloads >= 2); // retried while the cache stays away
      cacheAway = false;
      await until(() => !follower.behind);
      expect(await behind()).toBe(0);
      const runs = await metrics.getSingleMetricAsString('background_job_runs_total');
      expect(runs).toMatch(/background_job_runs_total\{job="test-replica-catch-up",outcome="failed"\} [1-9]/);
    } finally {
      await follower.stop();
    }
  });
});
