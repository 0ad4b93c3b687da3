import { describe, expect, it } from 'vitest';
import type { GuardrailCheck, Milestone, ReleaseEvent, ReleasePlan, SampleRatioCheck, ScheduledChange } from '../api/types.ts';
import { describeEvent, describeWho, eventsOf, eventsRefreshKey, eventTones, withNewest, withOlder } from './release-events.ts';

const split = (on: number): Milestone => ({
  serve: {
    rollout: [
      { variant: 'on', weight: on },
      { variant: 'off', weight: 100 - on },
    ],
  },
  holdSeconds: 60,
});

const plan: ReleasePlan = {
  id: 'p1',
  flagKey: 'checkout',
  environment: 'production',
  milestones: [split(1), split(25), split(50), { serve: { variant: 'on' }, holdSeconds: 60 }],
  guardrails: [],
  guardrailChecks: [],
  sampleRatio: null,
  status: 'active',
  step: 1,
  startServe: { variant: 'off' },
  nextAt: null,
  awaitingApproval: false,
  approvedStep: null,
  approvedBy: null,
  serving: null,
  pausedRemainingMs: null,
  flagVersion: 3,
  outcome: null,
  createdBy: { userId: 'u1', email: 'ann@example.com' },
  createdAt: '2025-03-12T10:00:00.000Z',
  updatedAt: '2025-03-12T10:00:00.000Z',
  version: 4,
};

const schedule: ScheduledChange = {
  id: 's1',
  flagKey: 'checkout',
  environment: 'production',
  change: { enabled: true },
  runAt: '2025-03-12T12:00:00.000Z',
  plannedVersion: 3,
  plannedState: null,
  status: 'applied',
  outcome: null,
  createdBy: { userId: 'u2', email: 'planner@example.com' },
  createdAt: '2025-03-12T10:00:00.000Z',
  updatedAt: '2025-03-12T12:00:00.000Z',
  closedAt: '2025-03-12T12:00:00.000Z',
  version: 2,
};

const ann = { userId: 'u1', email: 'ann@example.com' };

function event(overrides: Partial<ReleaseEvent> & Pick<ReleaseEvent, 'type'>): ReleaseEvent {
  const onSchedule = overrides.type.startsWith('schedule.');
  return {
    id: 1,
    flagKey: 'checkout',
    environment: 'production',
    scheduleId: onSchedule ? 's1' : null,
    releasePlanId: onSchedule ? null : 'p1',
    milestone: null,
    actor: ann,
    detail: null,
    at: '2025-03-12T12:00:00.000Z',
    ...overrides,
  };
}

const breach: GuardrailCheck = {
  metric: 'checkout-error',
  checkedAt: '2025-03-12T12:00:00.000Z',
  treatment: { variant: 'on', count: 1503, mean: 0.051 },
  control: { variant: 'off', count: 1497, mean: 0.01 },
  difference: 0.041,
  maxDifference: 0.01,
  pValue: 0.0021,
  alpha: 0.05,
  verdict: 'breach',
};

const mismatch: SampleRatioCheck = {
  checkedAt: '2025-03-12T12:00:00.000Z',
  observed: { on: 250, off: 1750 },
  weights: { on: 10, off: 90 },
  pValue: 0.00001,
  mismatch: true,
};

describe('describeEvent', () => {
  it('says a scheduled change that ran, with its change when the schedule is known', () => {
    const applied = event({ type: 'schedule.applied', actor: { userId: 'u2', email: 'planner@example.com' } });
    expect(describeEvent(applied)).toBe('Scheduled change applied');
    expect(describeEvent(applied, { schedule })).toBe('Scheduled change (turn it on) applied');
    // Another schedule's change is not said.
    expect(describeEvent(applied, { schedule: { ...schedule, id: 's2' } })).toBe('Scheduled change applied');
  });

  it('says why a scheduled change conflicted or failed, in the service’s words', () => {
    const conflicted = event({
      type: 'schedule.conflicted',
      actor: null,
      detail: 'enabled changed after this was planned (on version 3)',
    });
    expect(describeEvent(conflicted)).toBe('Scheduled change conflicted: enabled changed after this was planned (on version 3)');
    expect(describeEvent(conflicted, { schedule })).toBe(
      'Scheduled change (turn it on) conflicted: enabled changed after this was planned (on version 3)',
    );
    expect(describeEvent(event({ type: 'schedule.failed', actor: null, detail: 'the flag was deleted' }))).toBe(
      'Scheduled change failed: the flag was deleted',
    );
    expect(describeEvent(event({ type: 'schedule.failed', actor: null }))).toBe('Scheduled change failed');
  });

  it('says a cancelled schedule without repeating who cancelled it (said beside)', () => {
    const cancelled = event({ type: 'schedule.cancelled', detail: 'cancelled by ann@example.com' });
    expect(describeEvent(cancelled)).toBe('Scheduled change cancelled');
    expect(describeEvent(cancelled, { schedule: { ...schedule, change: { defaultServe: { variant: 'on' } } } })).toBe(
      'Scheduled change (serve “on” when no rule matches) cancelled',
    );
  });

  it('says a plan started, with its milestones when the plan is known', () => {
    const started = event({ type: 'plan.started' });
    expect(describeEvent(started)).toBe('Release started');
    expect(describeEvent(started, { plan })).toBe('Release started: “on” 1% → 25% → 50% → 100%');
    expect(describeEvent(started, { plan, variantLabel: (k) => k.toUpperCase() })).toBe('Release started: “ON” 1% → 25% → 50% → 100%');
  });

  it('says a milestone applied and what it serves (the share of the variant released, or the serve)', () => {
    expect(describeEvent(event({ type: 'plan.milestone', milestone: 1 }), { plan })).toBe('Milestone 2 of 4 applied — 25% on');
    expect(describeEvent(event({ type: 'plan.milestone', milestone: 3 }), { plan })).toBe('Milestone 4 of 4 applied — 100% on');
    expect(describeEvent(event({ type: 'plan.milestone', milestone: 1 }))).toBe('Milestone 2 applied');
    // Not a ramp of one variant: the serve itself.
    const swap = { ...plan, milestones: [split(50), { serve: { variant: 'off' }, holdSeconds: 60 }, split(30)] };
    expect(describeEvent(event({ type: 'plan.milestone', milestone: 0 }), { plan: swap })).toBe(
      'Milestone 1 of 3 applied — 50% on · 50% off',
    );
    expect(describeEvent(event({ type: 'plan.milestone', milestone: 1 }), { plan: swap })).toBe('Milestone 2 of 3 applied — “off”');
    expect(describeEvent(event({ type: 'plan.milestone' }))).toBe('A milestone applied');
  });

  it('says a milestone waiting for an approval, and approved', () => {
    expect(describeEvent(event({ type: 'plan.awaiting-approval', actor: null, milestone: 2 }), { plan })).toBe(
      'Milestone 3 of 4 waits for an approval',
    );
    expect(describeEvent(event({ type: 'plan.awaiting-approval', actor: null, milestone: 2 }))).toBe('Milestone 3 waits for an approval');
    expect(describeEvent(event({ type: 'plan.approved', milestone: 2 }), { plan })).toBe('Milestone 3 of 4 approved');
    expect(describeEvent(event({ type: 'plan.approved' }))).toBe('The next milestone approved');
  });

  it('says a pause by a person, by the release worker (the serve changed outside the plan), and for a sample ratio mismatch', () => {
    expect(describeEvent(event({ type: 'plan.paused', milestone: 0, detail: 'paused by ann@example.com' }), { plan })).toBe(
      'Paused at milestone 1 of 4',
    );
    expect(
      describeEvent(
        event({
          type: 'plan.paused',
          actor: null,
          milestone: 1,
          detail: 'the default serve of production was changed outside the plan (flag version 7): paused',
        }),
        { plan },
      ),
    ).toBe('Paused at milestone 2 of 4: the default serve of production was changed outside the plan (flag version 7)');
    expect(
      describeEvent(
        event({
          type: 'plan.paused',
          actor: null,
          milestone: 1,
          detail: 'sample ratio mismatch: served on 12.5% (weight 10%), off 87.5% (weight 90%) over 2000 evaluations, p=1.0e-5: paused',
          sampleRatio: mismatch,
        }),
      ),
    ).toBe('Paused at milestone 2: sample ratio mismatch — on 12.5 % for 10 %, off 87.5 % for 90 % (n = 2,000), p < 0.001');
  });

  it('says a plan resumed where it was, and completed with what it serves', () => {
    expect(describeEvent(event({ type: 'plan.resumed', milestone: 0 }), { plan })).toBe('Resumed at milestone 1 of 4');
    expect(describeEvent(event({ type: 'plan.resumed' }))).toBe('Resumed');
    expect(describeEvent(event({ type: 'plan.completed', actor: null, milestone: 3 }), { plan })).toBe('Release completed: serves “on”');
    expect(describeEvent(event({ type: 'plan.completed', actor: null, milestone: 3 }))).toBe('Release completed');
  });

  it('says a rollback by a person with what it serves again, and by a guardrail with its figures', () => {
    const byPerson = event({ type: 'plan.rolled-back', milestone: 0, detail: 'rolled back by ann@example.com' });
    expect(describeEvent(byPerson, { plan })).toBe('Rolled back at milestone 1 of 4: serves “off” again');
    expect(describeEvent(byPerson)).toBe('Rolled back at milestone 1');
    expect(describeEvent({ ...byPerson, milestone: -1 })).toBe('Rolled back');
    const byGuardrail = event({
      type: 'plan.rolled-back',
      milestone: 1,
      detail: 'guardrail "checkout-error" breached: on 0.051 (n=1503) vs off 0.01 (n=1497), worse by 0.041 > 0.01 allowed, p=0.0021 < 0.05',
      guardrail: breach,
    });
    expect(describeEvent(byGuardrail, { plan })).toBe(
      'Rolled back by guardrail checkout-error: on 0.051 vs off 0.01 (n = 1,503 / 1,497), p = 0.0021',
    );
    expect(describeEvent({ ...byGuardrail, guardrail: { ...breach, pValue: 0.0002 } })).toBe(
      'Rolled back by guardrail checkout-error: on 0.051 vs off 0.01 (n = 1,503 / 1,497), p < 0.001',
    );
    // Without the figures (not sent), the service's words.
    expect(describeEvent({ ...byGuardrail, guardrail: undefined }, { plan })).toBe(
      'Rolled back at milestone 2 of 4: guardrail "checkout-error" breached: on 0.051 (n=1503) vs off 0.01 (n=1497), worse by 0.041 > 0.01 allowed, p=0.0021 < 0.05',
    );
  });

  it('says every event type (none falls through)', () => {
    for (const type of Object.keys(eventTones) as ReleaseEvent['type'][]) expect(describeEvent(event({ type }))).toMatch(/^[A-Z]\S*/);
  });
});

describe('describeWho', () => {
  it('names the person, or the release worker when it decided on its own', () => {
    expect(describeWho(event({ type: 'plan.paused' }))).toBe('by ann@example.com');
    expect(describeWho(event({ type: 'schedule.applied', actor: { userId: 'u2', email: 'planner@example.com' } }))).toBe(
      'by planner@example.com',
    );
    expect(describeWho(event({ type: 'plan.completed', actor: null }))).toBe('by the release worker');
    // A guardrail's rollback is credited to the plan's author in the flag's history, but the figures decided.
    expect(describeWho(event({ type: 'plan.rolled-back', guardrail: breach }))).toBe('by the release worker');
    expect(describeWho(event({ type: 'plan.paused', actor: null, sampleRatio: mismatch }))).toBe('by the release worker');
  });
});

describe('the pages of events', () => {
  const page = (ids: number[], nextCursor: string | null) => ({
    items: ids.map((id) => event({ type: 'plan.milestone', id })),
    nextCursor,
  });
  const ids = (p: { items: ReleaseEvent[] }) => p.items.map((e) => e.id);

  it('puts the newest page in front of the older pages loaded when it reaches back to them', () => {
    const loaded = withOlder(page([9, 8, 7], '7'), page([6, 5, 4], '4'));
    expect(ids(loaded)).toEqual([9, 8, 7, 6, 5, 4]);
    expect(loaded.nextCursor).toBe('4');
    const merged = withNewest(loaded, page([11, 10, 9], '9'));
    expect(ids(merged)).toEqual([11, 10, 9, 8, 7, 6, 5, 4]);
    expect(merged.nextCursor).toBe('4');
    // Nothing new: the same.
    expect(ids(withNewest(merged, page([11, 10, 9], '9')))).toEqual([11, 10, 9, 8, 7, 6, 5, 4]);
  });

  it('starts again from the newest page when more than a page came in between, or when it is all there is', () => {
    const loaded = page([5, 4, 3], '3');
    expect(withNewest(loaded, page([9, 8, 7], '7'))).toEqual(page([9, 8, 7], '7'));
    expect(withNewest(loaded, page([6, 5, 4, 3, 2, 1], null))).toEqual(page([6, 5, 4, 3, 2, 1], null));
    expect(withNewest(undefined, page([2, 1], null))).toEqual(page([2, 1], null));
    expect(withNewest(page([], null), page([1], null))).toEqual(page([1], null));
  });

  it('appends an older page once', () => {
    expect(ids(withOlder(page([9, 8], '8'), page([8, 7], null)))).toEqual([9, 8, 7]);
    expect(withOlder(page([9, 8], '8'), page([7], null)).nextCursor).toBeNull();
  });

  it('keeps an environment’s events', () => {
    const events = [event({ type: 'plan.started', id: 2 }), event({ type: 'plan.started', id: 1, environment: 'development' })];
    expect(eventsOf(events, 'development').map((e) => e.id)).toEqual([1]);
  });
});

describe('eventsRefreshKey', () => {
  const plans = { items: [{ id: 'p1', version: 4 }], error: undefined };
  const schedules = { items: [{ id: 's1', version: 2 }], error: undefined };

  it('changes when a plan or a schedule is written, or the flag', () => {
    const key = eventsRefreshKey(plans, schedules, 7);
    expect(key).toBe('p1:4|s1:2|7');
    expect(eventsRefreshKey({ items: [{ id: 'p1', version: 5 }], error: undefined }, schedules, 7)).not.toBe(key);
    expect(eventsRefreshKey(plans, { items: [...schedules.items, { id: 's2', version: 1 }], error: undefined }, 7)).not.toBe(key);
    expect(eventsRefreshKey(plans, schedules, 8)).not.toBe(key);
  });

  it('is undefined until both lists answered, and set when one failed', () => {
    expect(eventsRefreshKey({ items: undefined, error: undefined }, schedules, 7)).toBeUndefined();
    expect(eventsRefreshKey(plans, { items: undefined, error: undefined }, 7)).toBeUndefined();
    expect(eventsRefreshKey(plans, { items: undefined, error: new Error('down') }, 7)).toBe('p1:4|failed|7');
  });
});
