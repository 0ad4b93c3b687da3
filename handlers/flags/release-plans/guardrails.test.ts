import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CountedEvaluations } from '../../../shared/events/evaluation-event.ts';
import type { MetricAggregate } from '../../../shared/events/metric-event.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { testConfig } from '../../../shared/testing/config.ts';
import { testTokens } from '../../../shared/testing/tokens.ts';
import { createMemoryAnalyticsStore } from '../../analytics/analytics-store.memory.ts';
import { createFlagService } from '../flag-service.ts';
import { buildFlagsApp, createFlagStore } from '../flags-app.ts';
import { guardrailDataOf } from './analytics-guardrail-data.ts';
import { createGuardrailEvaluator } from './guardrail-evaluator.ts';
import { createReleasePlanService } from './release-plan-service.ts';
import type { GuardrailCheck, ReleasePlan } from './release-plan.ts';

const fiftyFifty = {
  serve: {
    rollout: [
      { variant: 'on', weight: 50 },
      { variant: 'off', weight: 50 },
    ],
  },
  holdSeconds: 3600,
};
const errorGuardrail = { metric: 'error', treatment: 'on', control: 'off', maxDifference: 0.01 };

/**
 * Guardrails through the flags API (in memory), judged on the analytics' sums (the memory store, written as the worker
 * writes it) by the release worker's evaluator, on a clock the test sets.
 */
describe('release plan guardrails', () => {
  let clock = new Date();
  const store = createFlagStore();
  const analytics = createMemoryAnalyticsStore();
  const now = () => clock;
  const plans = createReleasePlanService({
    store,
    flags: createFlagService({ store, environments: ['development', 'production'], now }),
    now,
  });
  const evaluator = createGuardrailEvaluator({ data: guardrailDataOf(analytics), now });
  let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
  let editor: string;
  let batch = 0;

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    editor = await tokenFor('editor', 'releaser@example.com');
    ({ app } = await buildFlagsApp({ config: testConfig(), logger: createLogger('silent', 'flags'), store, verifier }));
  });
  afterAll(() => app.close());

  const call = (method: 'GET' | 'POST', url: string, payload?: object, headers: Record<string, string> = {}) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${editor}`, ...headers }, ...(payload ? { payload } : {}) });
  /** A flag serving `off`, and a 50/50 plan on it with these guardrails. */
  const release = async (key: string, guardrails: object[]): Promise<ReleasePlan> => {
    clock = new Date();
    const created = await call('POST', '/flags', {
      key,
      name: key,
      type: 'boolean',
      environments: { production: { enabled: true, defaultServe: { variant: 'off' } } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const started = await call(
      'POST',
      `/flags/${key}/environments/production/release-plans`,
      { milestones: [fiftyFifty, { serve: { variant: 'on' }, holdSeconds: 60 }], guardrails },
      { 'if-match': '"1"' },
    );
    expect(started.statusCode, started.body).toBe(201);
    return started.json<ReleasePlan>();
  };
  /** Metric events as the analytics worker writes them: per variant, `count` events of which `hits` had value 1. */
  const measured = (key: string, metric: string, arms: Record<string, { count: number; hits: number }>) =>
    analytics.writeBatch(
      {
        batchId: `metrics${batch++}`,
        events: [],
        counts: [],
        metrics: Object.entries(arms).map(([variant, { count, hits }]) => {
          const minute = clock.getTime() - (clock.getTime() % 60_000);
          return [key, 'production', variant, metric, minute, count, hits, hits] satisfies MetricAggregate;
        }),
      },
      86_400_000,
    );
  const look = async (plan: ReleasePlan) => {
    const outcome = await plans.guard(plan.id, evaluator);
    return { outcome, plan: (await store.getPlan(plan.id))! };
  };

  it('rolls a harmful release back on its own, with the metric and its figures in the audit entry', async () => {
    const plan = await release('harmful', [errorGuardrail]);
    await measured('harmful', 'error', { on: { count: 1_500, hits: 75 }, off: { count: 1_500, hits: 15 } });
    const { outcome, plan: after } = await look(plan);
    expect(outcome).toBe('rolled-back');
    expect(after.status).toBe('rolled-back');
    expect(after.outcome).toMatch(
      /^guardrail "error" breached: on 0\.05 \(n=1500\) vs off 0\.01 \(n=1500\), worse by 0\.04 > 0\.01 allowed, p=/,
    );
    const flag = (await call('GET', '/flags/harmful')).json<{ environments: { production: { defaultServe: unknown } } }>();
    expect(flag.environments.production.defaultServe).toEqual({ variant: 'off' });
    const [entry] = (await call('GET', '/flags/harmful/history')).json<{
      items: { cause: { rollback: true; guardrail: GuardrailCheck }; actor: { email: string } }[];
    }>().items;
    expect(entry?.actor.email).toBe('releaser@example.com');
    expect(entry?.cause).toMatchObject({ releasePlanId: plan.id, rollback: true });
    expect(entry?.cause.guardrail).toMatchObject({
      metric: 'error',
      verdict: 'breach',
      treatment: { variant: 'on', count: 1_500, mean: 0.05 },
      control: { variant: 'off', count: 1_500, mean: 0.01 },
      maxDifference: 0.01,
      alpha: 0.05,
    });
    expect(entry!.cause.guardrail.pValue).toBeLessThan(0.05);
    expect(after.guardrailChecks).toEqual([entry!.cause.guardrail]);
    const [event] = (await call('GET', '/flags/harmful/release-events')).json<{ items: object[] }>().items;
    expect(event).toMatchObject({
      type: 'plan.rolled-back',
      releasePlanId: plan.id,
      detail: after.outcome,
      guardrail: entry!.cause.guardrail,
    });
  });

  it('keeps a harmless release going, and keeps each look for the console, with the smallest p-value so far', async () => {
    const plan = await release('harmless', [errorGuardrail]);
    await measured('harmless', 'error', { on: { count: 50, hits: 1 }, off: { count: 50, hits: 1 } });
    let { outcome, plan: after } = await look(plan);
    expect(outcome).toBe('holding');
    expect(after.guardrailChecks[0]).toMatchObject({ verdict: 'too-few-samples', pValue: 1 });
    await measured('harmless', 'error', { on: { count: 2_000, hits: 30 }, off: { count: 2_000, hits: 24 } });
    ({ outcome, plan: after } = await look(plan));
    expect(outcome).toBe('holding');
    expect(after.status).toBe('active');
    const first = after.guardrailChecks[0]!;
    expect(first).toMatchObject({ verdict: 'no-breach-yet', treatment: { count: 2_050 }, control: { count: 2_050 } });
    // A look that finds less evidence against the treatment does not raise the always-valid p-value again.
    await measured('harmless', 'error', { on: { count: 4_000, hits: 0 }, off: { count: 4_000, hits: 60 } });
    ({ plan: after } = await look(plan));
    expect(after.guardrailChecks[0]!.pValue).toBeLessThanOrEqual(first.pValue);
    // A step of the plan writes the plan: the looks are kept.
    clock = new Date(clock.getTime() + 3_600_000);
    expect(await plans.advance(plan.id)).toBe('advanced');
    expect((await store.getPlan(plan.id))!.guardrailChecks).toHaveLength(1);
  });

  it('judges a metric that is worse when lower (a conversion) on its drop', async () => {
    const plan = await release('conversion', [{ ...errorGuardrail, metric: 'purchase', worseWhen: 'lower', maxDifference: 0.02 }]);
    await measured('conversion', 'purchase', { on: { count: 2_000, hits: 100 }, off: { count: 2_000, hits: 300 } });
    expect((await look(plan)).outcome).toBe('rolled-back');
    const plan2 = await release('conversion-up', [{ ...errorGuardrail, metric: 'purchase', worseWhen: 'lower', maxDifference: 0.02 }]);
    await measured('conversion-up', 'purchase', { on: { count: 2_000, hits: 300 }, off: { count: 2_000, hits: 100 } });
    expect((await look(plan2)).outcome).toBe('holding');
  });

  it('pauses a release whose split does not match its weights, rather than judging it', async () => {
    const plan = await release('skewed', [errorGuardrail]);
    const minute = (at: number) => at - (at % 60_000);
    // Two whole minutes after the milestone began, 62 % of the split's evaluations went to `on` instead of 50 %.
    const started = Date.parse(String(plan.updatedAt)); // as the API answered it
    const first = minute(started) + 60_000;
    await analytics.writeBatch(
      {
        batchId: `split${batch++}`,
        events: [],
        counts: [first, first + 60_000].flatMap((at) => [
          ['skewed', 'production', 'on', 'SPLIT', null, at, 620] satisfies CountedEvaluations,
          ['skewed', 'production', 'off', 'SPLIT', null, at, 380] satisfies CountedEvaluations,
          ['skewed', 'production', 'on', 'TARGETING_MATCH', 'rule-1', at, 5_000] satisfies CountedEvaluations,
        ]),
      },
      86_400_000,
    );
    clock = new Date(first + 2 * 60_000 + 15_000);
    const { outcome, plan: after } = await look(plan);
    expect(outcome).toBe('paused');
    expect(after.sampleRatio).toMatchObject({ observed: { on: 1_240, off: 760 }, weights: { on: 50, off: 50 }, mismatch: true });
    expect(after.outcome).toMatch(
      /^sample ratio mismatch: served on 62\.0% \(weight 50%\), off 38\.0% \(weight 50%\) over 2000 evaluations/,
    );
    expect(after.status).toBe('paused');
    const [event] = (await call('GET', '/flags/skewed/release-events')).json<{ items: object[] }>().items;
    expect(event).toMatchObject({ type: 'plan.paused', actor: null, detail: after.outcome, sampleRatio: after.sampleRatio });
  });

  it('refuses guardrails that name variants the flag does not have, or the same one twice', async () => {
    await call('POST', '/flags', {
      key: 'checked',
      name: 'checked',
      type: 'boolean',
      environments: { production: { enabled: true, defaultServe: { variant: 'off' } } },
    });
    for (const guardrail of [
      { ...errorGuardrail, treatment: 'blue' },
      { ...errorGuardrail, control: 'on' },
      { ...errorGuardrail, maxDifference: -1 },
      { ...errorGuardrail, metric: 'no spaces' },
      { ...errorGuardrail, alpha: 0.5 },
    ]) {
      const res = await call(
        'POST',
        '/flags/checked/environments/production/release-plans',
        { milestones: [fiftyFifty], guardrails: [guardrail] },
        { 'if-match': '"1"' },
      );
      expect(res.statusCode, JSON.stringify(guardrail)).toBe(400);
    }
    expect((await call('GET', '/flags/checked/release-plans')).json<{ items: unknown[] }>().items).toEqual([]);
  });
});
