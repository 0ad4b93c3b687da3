import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../../../shared/testing/redis-server.ts';
import { until } from '../../../shared/testing/until.ts';
import { startPlatform, type Platform } from '../../testing/platform.ts';

interface Plan {
  id: string;
  status: string;
  step: number;
}

/** A release plan on real servers: the release worker moves it on by itself, to 100 %, and every instance serves it. */
describe('release plans, moved on by the release worker', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let platform: Platform;

  const plansOf = async (key: string) =>
    (await platform.call<{ items: Plan[] }>('GET', `${platform.urls.flags}/flags/${key}/release-plans`)).body.items;
  /** Share of 400 users served `on` by an evaluation instance. */
  const servedShare = async (key: string) => {
    let on = 0;
    for (let i = 0; i < 400; i++) {
      const response = await fetch(`${platform.evaluations[i % 2]!.url}/ofrep/v1/evaluate/flags/${key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': platform.sdkKey },
        body: JSON.stringify({ context: { targetingKey: `user-${i}` } }),
      });
      if (((await response.json()) as { value?: unknown }).value === true) on += 1;
    }
    return on / 400;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    platform = await startPlatform({ redisUrl: redis.url, evaluationInstances: 2 });
    await platform.startWorker('release-worker');
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  it('runs a four-milestone plan to 100 % on its own, with a pause and a resume on the way, each step audited', async () => {
    const created = await platform.call('POST', `${platform.urls.flags}/flags`, {
      key: 'new-search',
      name: 'New search',
      type: 'boolean',
      environments: { production: { enabled: true, defaultServe: { variant: 'off' } } },
    });
    expect(created.status).toBe(201);
    const milestones = [5, 25, 50, 100].map((on) => ({
      serve: {
        rollout: [
          { variant: 'on', weight: on },
          { variant: 'off', weight: 100 - on },
        ],
      },
      holdSeconds: 1,
    }));
    const started = await platform.call<Plan>('POST', `${platform.urls.flags}/flags/new-search/environments/production/release-plans`, {
      milestones,
    });
    expect(started.status).toBe(201);
    const { id } = started.body;
    const paused = await platform.call<Plan>('POST', `${platform.urls.flags}/flags/new-search/release-plans/${id}/pause`);
    expect(paused.body.status).toBe('paused');
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await plansOf('new-search'))[0]).toMatchObject({ status: 'paused', step: 0 });
    expect((await platform.call('POST', `${platform.urls.flags}/flags/new-search/release-plans/${id}/resume`)).status).toBe(200);
    await until(async () => (await plansOf('new-search'))[0]?.status === 'completed', { limitMs: 10_000, everyMs: 100 });
    expect(await servedShare('new-search')).toBe(1);
    const history = await platform.call<{ items: { cause?: { releasePlanId?: string; milestone?: number } | null }[] }>(
      'GET',
      `${platform.urls.flags}/flags/new-search/history`,
    );
    expect(history.body.items.flatMap((e) => (e.cause?.releasePlanId === id ? [e.cause.milestone] : []))).toEqual([3, 2, 1, 0]);
    const events = await platform.call<{ items: { type: string }[] }>('GET', `${platform.urls.flags}/flags/new-search/release-events`);
    expect(events.body.items.map((e) => e.type).reverse()).toEqual([
      'plan.started',
      'plan.milestone',
      'plan.paused',
      'plan.resumed',
      'plan.milestone',
      'plan.milestone',
      'plan.milestone',
      'plan.completed',
    ]);
  });
});
