import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger } from '../logging/logger.ts';
import { until } from '../testing/until.ts';
import { startBackgroundJob } from './background-job.ts';

const logger = createLogger('silent', 'test');

describe('background job', () => {
  it('runs a round when woken, long before its interval, and stops without waiting for the interval', async () => {
    let rounds = 0;
    const job = startBackgroundJob({
      name: 'woken',
      logger,
      metrics: new Registry(),
      intervalMs: 60_000,
      run: async () => void (rounds += 1),
    });
    await until(() => rounds === 1);
    job.wake();
    await until(() => rounds === 2);
    const stopping = Date.now();
    await job.stop();
    expect(Date.now() - stopping).toBeLessThan(500);
  });

  it('retries a failing round with a doubling back-off up to its bound, and counts every round on /metrics', async () => {
    const metrics = new Registry();
    const startedAt: number[] = [];
    const job = startBackgroundJob({
      name: 'flaky',
      logger,
      metrics,
      intervalMs: 60_000,
      retryMs: 20,
      maxBackoffMs: 80,
      run: async () => {
        startedAt.push(Date.now());
        if (startedAt.length <= 5) throw new Error('connect ECONNREFUSED');
        return undefined;
      },
    });
    try {
      await until(() => startedAt.length === 6);
      const gaps = startedAt.slice(1).map((at, i) => at - startedAt[i]!);
      // 20, 40, 80, 80, 80 ms (timers fire no earlier than asked; a busy machine makes them later, never sooner).
      expect(gaps[0]).toBeGreaterThanOrEqual(19);
      expect(gaps[1]).toBeGreaterThanOrEqual(39);
      for (const gap of gaps.slice(2)) expect(gap).toBeGreaterThanOrEqual(79);
      const runs = await metrics.getSingleMetricAsString('background_job_runs_total');
      expect(runs).toContain('background_job_runs_total{job="flaky",outcome="failed"} 5');
      expect(runs).toContain('background_job_runs_total{job="flaky",outcome="ok"} 1');
      expect(await metrics.getSingleMetricAsString('background_job_consecutive_failures')).toContain(
        'background_job_consecutive_failures{job="flaky"} 0',
      );
    } finally {
      await job.stop();
    }
  });

  it('runs again at once while a round says more work is waiting', async () => {
    let rounds = 0;
    const job = startBackgroundJob({
      name: 'busy',
      logger,
      metrics: new Registry(),
      intervalMs: 60_000,
      run: async () => (++rounds < 5 ? 'at-once' : undefined),
    });
    try {
      await until(() => rounds === 5);
    } finally {
      await job.stop();
    }
  });
});
