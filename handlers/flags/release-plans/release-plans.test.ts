import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../shared/logging/logger.ts';
import { testConfig } from '../../../shared/testing/config.ts';
import { testTokens } from '../../../shared/testing/tokens.ts';
import { createFlagService } from '../flag-service.ts';
import { buildFlagsApp, createFlagStore } from '../flags-app.ts';
import { createReleasePlanService } from './release-plan-service.ts';

const ramp = (...percents: number[]) =>
  percents.map((on, i) => ({
    serve: {
      rollout: [
        { variant: 'on', weight: on },
        { variant: 'off', weight: 100 - on },
      ],
    },
    holdSeconds: 60 * (i + 1),
  }));

/** Release plans through the flags API (in memory); the release worker's side moved on by a clock the test sets. */
describe('release plans', () => {
  let clock = new Date();
  const store = createFlagStore();
  const worker = createReleasePlanService({
    store,
    flags: createFlagService({ store, environments: ['development', 'production'], now: () => clock }),
    now: () => clock,
  });
  let app: Awaited<ReturnType<typeof buildFlagsApp>>['app'];
  let editor: string;
  let approver: string;

  beforeAll(async () => {
    const { verifier, tokenFor } = await testTokens();
    editor = await tokenFor('editor', 'releaser@example.com');
    approver = await tokenFor('editor', 'approver@example.com');
    ({ app } = await buildFlagsApp({ config: testConfig(), logger: createLogger('silent', 'flags'), store, verifier }));
  });
  afterAll(() => app.close());

  const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, headers: Record<string, string> = {}) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${editor}`, ...headers }, ...(payload ? { payload } : {}) });
  const newFlag = async (key: string) => {
    const res = await call('POST', '/flags', {
      key,
      name: key,
      type: 'boolean',
      environments: { production: { enabled: true, defaultServe: { variant: 'off' } } },
    });
    expect(res.statusCode, res.body).toBe(201);
  };
  const start = (key: string, milestones: object[], version = '"1"') =>
    call('POST', `/flags/${key}/environments/production/release-plans`, { milestones }, { 'if-match': version });
  const serveOf = async (key: string) =>
    (await call('GET', `/flags/${key}`)).json<{ environments: { production: { defaultServe: unknown } } }>().environments.production
      .defaultServe;
  /** The share of users served `on` by the default serve. */
  const onShare = async (key: string) =>
    ((await serveOf(key)) as { rollout?: { variant: string; weight: number }[] }).rollout?.find((r) => r.variant === 'on')?.weight;
  const passTime = (seconds: number) => (clock = new Date(clock.getTime() + seconds * 1000));

  it('applies the first milestone at once and each next one after the hold time, each an audited change, then completes', async () => {
    await newFlag('checkout');
    clock = new Date();
    const started = await start('checkout', ramp(1, 10, 50, 100));
    expect(started.statusCode, started.body).toBe(201);
    const { id } = started.json<{ id: string }>();
    expect(started.json()).toMatchObject({ status: 'active', step: 0, startServe: { variant: 'off' } });
    expect(await serveOf('checkout')).toMatchObject({
      rollout: [
        { variant: 'on', weight: 1 },
        { variant: 'off', weight: 99 },
      ],
    });
    expect(await worker.advance(id)).toBe('not-due');
    for (const [seconds, percent] of [
      [60, 10],
      [120, 50],
      [180, 100],
    ] as const) {
      passTime(seconds);
      expect(await worker.advance(id)).toBe('advanced');
      expect(await onShare('checkout')).toBe(percent);
    }
    passTime(240);
    expect(await worker.advance(id)).toBe('completed');
    const history = (await call('GET', '/flags/checkout/history')).json<{ items: { cause?: unknown; actor: { email: string } }[] }>().items;
    expect(history.filter((e) => e.cause !== null && e.cause !== undefined).map((e) => e.cause)).toEqual(
      [3, 2, 1, 0].map((milestone) => ({ releasePlanId: id, milestone })),
    );
    expect(history[0]?.actor.email).toBe('releaser@example.com');
    const events = (await call('GET', '/flags/checkout/release-events')).json<{ items: { type: string; milestone: number | null }[] }>();
    expect(events.items.map((e) => [e.type, e.milestone]).reverse()).toEqual([
      ['plan.started', null],
      ['plan.milestone', 0],
      ['plan.milestone', 1],
      ['plan.milestone', 2],
      ['plan.milestone', 3],
      ['plan.completed', 3],
    ]);
  });

  it('pauses (keeping the time left), resumes, and rolls back to the serve it started from', async () => {
    await newFlag('search');
    clock = new Date();
    const { id } = (await start('search', ramp(5, 25, 100))).json<{ id: string }>();
    passTime(30);
    const paused = await call('POST', `/flags/search/release-plans/${id}/pause`);
    expect(paused.json()).toMatchObject({ status: 'paused', nextAt: null });
    passTime(3600);
    expect(await worker.advance(id)).toBe('not-running');
    const resumed = await call('POST', `/flags/search/release-plans/${id}/resume`);
    expect(resumed.json()).toMatchObject({ status: 'active', step: 0 });
    const rolledBack = await call('POST', `/flags/search/release-plans/${id}/rollback`);
    expect(rolledBack.json()).toMatchObject({ status: 'rolled-back' });
    expect(await serveOf('search')).toEqual({ variant: 'off' });
    expect((await call('POST', `/flags/search/release-plans/${id}/resume`)).statusCode).toBe(409);
    const events = (await call('GET', '/flags/search/release-events?limit=3')).json<{
      items: { type: string; actor: { email: string } | null; detail: string | null }[];
      nextCursor: string;
    }>();
    expect(events.items.map((e) => [e.type, e.actor?.email, e.detail])).toEqual([
      ['plan.rolled-back', 'releaser@example.com', 'rolled back by releaser@example.com'],
      ['plan.resumed', 'releaser@example.com', null],
      ['plan.paused', 'releaser@example.com', 'paused by releaser@example.com'],
    ]);
    const older = (await call('GET', `/flags/search/release-events?cursor=${events.nextCursor}`)).json<{ items: { type: string }[] }>();
    expect(older.items.map((e) => e.type)).toEqual(['plan.milestone', 'plan.started']);
  });

  it('waits for an approval where a milestone asks for one', async () => {
    await newFlag('gated');
    clock = new Date();
    const milestones = ramp(10, 100);
    const { id } = (await start('gated', [milestones[0]!, { ...milestones[1]!, approval: true }])).json<{ id: string }>();
    passTime(61);
    expect(await worker.advance(id)).toBe('awaiting-approval');
    expect(await onShare('gated')).toBe(10);
    const approved = await call('POST', `/flags/gated/release-plans/${id}/approve`);
    expect(approved.statusCode, approved.body).toBe(200);
    expect(await onShare('gated')).toBe(100);
  });

  it('pauses instead of overwriting a change made to the flag outside the plan, and refuses a second plan', async () => {
    await newFlag('contested');
    clock = new Date();
    const { id } = (await start('contested', ramp(10, 100))).json<{ id: string }>();
    expect((await start('contested', ramp(50), '"2"')).statusCode).toBe(409);
    // Changes elsewhere in the flag do not stop the plan; a change of the serve it drives does.
    expect((await call('PATCH', '/flags/contested/environments/production', { offVariant: 'on' })).statusCode).toBe(200);
    expect((await call('PATCH', '/flags/contested/environments/development', { enabled: true })).statusCode).toBe(200);
    expect((await call('PATCH', '/flags/contested/environments/production', { defaultServe: { variant: 'off' } })).statusCode).toBe(200);
    passTime(61);
    expect(await worker.advance(id)).toBe('paused');
    const [plan] = (await call('GET', '/flags/contested/release-plans')).json<{ items: { status: string; outcome: string }[] }>().items;
    expect(plan?.status).toBe('paused');
    expect(plan?.outcome).toContain('changed outside the plan');
    expect(await serveOf('contested')).toEqual({ variant: 'off' });
  });

  it('credits a rollback to whoever rolled back, and an approved milestone to whoever approved it', async () => {
    const asApprover = { authorization: `Bearer ${approver}` };
    await newFlag('credited');
    clock = new Date();
    const milestones = ramp(10, 100);
    const { id } = (await start('credited', [milestones[0]!, { ...milestones[1]!, approval: true }])).json<{ id: string }>();
    passTime(61);
    expect(await worker.advance(id)).toBe('awaiting-approval');
    expect((await call('POST', `/flags/credited/release-plans/${id}/pause`, undefined, asApprover)).json()).toMatchObject({
      outcome: 'paused by approver@example.com',
    });
    expect((await call('POST', `/flags/credited/release-plans/${id}/approve`, undefined, asApprover)).statusCode).toBe(409);
    await call('POST', `/flags/credited/release-plans/${id}/resume`);
    const approved = await call('POST', `/flags/credited/release-plans/${id}/approve`, undefined, asApprover);
    expect(approved.json()).toMatchObject({ step: 1, approvedBy: { email: 'approver@example.com' } });
    const rolledBack = await call('POST', `/flags/credited/release-plans/${id}/rollback`, undefined, asApprover);
    expect(rolledBack.json()).toMatchObject({ status: 'rolled-back', outcome: 'rolled back by approver@example.com' });
    const history = (await call('GET', '/flags/credited/history')).json<{ items: { cause?: unknown; actor: { email: string } }[] }>().items;
    expect(history.slice(0, 3).map((e) => [e.cause, e.actor.email])).toEqual([
      [{ releasePlanId: id, rollback: true }, 'approver@example.com'],
      [{ releasePlanId: id, milestone: 1 }, 'approver@example.com'],
      [{ releasePlanId: id, milestone: 0 }, 'releaser@example.com'],
    ]);
  });

  it('saves milestones as a named template and starts a plan from it', async () => {
    const saved = await call('POST', '/flags/release-plan-templates', { name: 'one-ten-fifty-hundred', milestones: ramp(1, 10, 50, 100) });
    expect(saved.statusCode, saved.body).toBe(201);
    const { id: templateId } = saved.json<{ id: string }>();
    expect((await call('POST', '/flags/release-plan-templates', { name: 'one-ten-fifty-hundred', milestones: ramp(100) })).statusCode).toBe(
      409,
    );
    expect((await call('GET', '/flags/release-plan-templates')).json()).toMatchObject({
      items: [{ id: templateId, name: 'one-ten-fifty-hundred' }],
    });
    await newFlag('templated');
    const started = await call('POST', '/flags/templated/environments/production/release-plans', { templateId }, { 'if-match': '"1"' });
    expect(started.statusCode, started.body).toBe(201);
    expect(started.json<{ milestones: unknown[] }>().milestones).toHaveLength(4);
    expect(await onShare('templated')).toBe(1);
    expect((await call('POST', '/flags/other/environments/production/release-plans', { templateId, milestones: ramp(5) })).statusCode).toBe(
      400,
    );
  });

  it('refuses at once a plan whose milestone could not be applied', async () => {
    await newFlag('wrong');
    const res = await start('wrong', [{ serve: { variant: 'nope' }, holdSeconds: 60 }]);
    expect(res.statusCode).toBe(400);
    expect(res.json<{ detail: string }>().detail).toContain('Milestone 1');
  });

  it('applies no milestone to an archived flag: a plan left active by a race with the archive pauses at its next step, saying why', async () => {
    await newFlag('archived-mid-release');
    clock = new Date();
    const started = await start('archived-mid-release', ramp(1, 50));
    const { id } = started.json<{ id: string }>();
    expect((await call('DELETE', '/flags/archived-mid-release')).statusCode).toBe(204);
    const paused = (await store.getPlan(id))!;
    expect(paused).toMatchObject({ status: 'paused', outcome: 'the flag was archived by releaser@example.com' });
    // As if the archive had not seen it (started at the same moment): active again in the store.
    await store.updatePlan({ ...paused, status: 'active', nextAt: clock, version: paused.version + 1 }, paused.version, null);
    passTime(60);
    expect(await worker.advance(id)).toBe('not-due');
    expect(await store.getPlan(id)).toMatchObject({ status: 'paused', outcome: 'the flag is archived' });
    expect(await onShare('archived-mid-release')).toBe(1);
  });
});
