import { describe, expect, it } from 'vitest';
import type { Milestone, ReleasePlan } from '../api/types.ts';
import {
  changedTheFlag,
  currentServeOf,
  describeEnd,
  describeMilestones,
  describeMilestonesWithHolds,
  finishedPlansOf,
  formatHold,
  holdInputOf,
  holdSecondsOf,
  milestoneStates,
  missingVariants,
  presetMilestones,
  rampVariants,
  runningPlanOf,
  sentence,
  serveInWords,
  templatesFor,
  withPlan,
} from './release-plans.ts';

const split = (on: number, holdSeconds = 60, rest = 'off'): Milestone => ({
  serve: {
    rollout: [
      { variant: 'on', weight: on },
      { variant: rest, weight: 100 - on },
    ],
  },
  holdSeconds,
});
const boolean = { variants: [{ key: 'on' }, { key: 'off' }] };

function plan(overrides: Partial<ReleasePlan> = {}): ReleasePlan {
  return {
    id: 'p1',
    flagKey: 'checkout',
    environment: 'production',
    milestones: [split(1), split(10), split(50), { serve: { variant: 'on' }, holdSeconds: 60 }],
    guardrails: [],
    guardrailChecks: [],
    sampleRatio: null,
    status: 'active',
    step: 1,
    startServe: { variant: 'off' },
    nextAt: '2031-03-09T12:00:00.000Z',
    awaitingApproval: false,
    approvedStep: null,
    approvedBy: null,
    serving: null,
    pausedRemainingMs: null,
    flagVersion: 4,
    outcome: null,
    createdBy: { userId: 'u1', email: 'ana@example.com' },
    createdAt: '2031-03-09T11:00:00.000Z',
    updatedAt: '2031-03-09T11:30:00.000Z',
    version: 3,
    ...overrides,
  };
}

describe('release plans in the console', () => {
  it('reads a hold typed in a unit as seconds, within the API bounds, and shows it back in the largest whole unit', () => {
    expect(holdSecondsOf({ amount: '1', unit: 'seconds' })).toEqual({ seconds: 1 });
    expect(holdSecondsOf({ amount: '90', unit: 'minutes' })).toEqual({ seconds: 5400 });
    expect(holdSecondsOf({ amount: '1.5', unit: 'hours' })).toEqual({ seconds: 5400 });
    expect(holdSecondsOf({ amount: '1,5', unit: 'hours' })).toEqual({ seconds: 5400 });
    expect(holdSecondsOf({ amount: '30', unit: 'days' })).toEqual({ seconds: 30 * 86_400 });
    expect(holdSecondsOf({ amount: '31', unit: 'days' })).toEqual({ error: 'At most 30 days' });
    expect(holdSecondsOf({ amount: '0', unit: 'hours' })).toEqual({ error: 'At least a second' });
    expect(holdSecondsOf({ amount: '0.5', unit: 'seconds' })).toEqual({ error: 'A whole number of seconds' });
    expect(holdSecondsOf({ amount: '', unit: 'minutes' })).toHaveProperty('error');
    expect(holdSecondsOf({ amount: '-3', unit: 'minutes' })).toHaveProperty('error');
    expect(holdInputOf(1)).toEqual({ amount: '1', unit: 'seconds' });
    expect(holdInputOf(5400)).toEqual({ amount: '90', unit: 'minutes' });
    expect(holdInputOf(7200)).toEqual({ amount: '2', unit: 'hours' });
    expect(holdInputOf(2 * 86_400)).toEqual({ amount: '2', unit: 'days' });
    expect(holdInputOf(61)).toEqual({ amount: '61', unit: 'seconds' });
    expect([1, 45, 600, 5400, 3600, 86_400 + 6 * 3600, 86_400 + 61].map(formatHold)).toEqual([
      '1 s',
      '45 s',
      '10 min',
      '1 h 30 min',
      '1 h',
      '1 d 6 h',
      '1 d 1 min',
    ]);
  });

  it('says what milestones serve: a ramp of one variant as its shares, anything else serve by serve', () => {
    const ramp = plan().milestones;
    expect(describeMilestones(ramp)).toBe('“on” 1% → 10% → 50% → 100%');
    expect(
      describeMilestonesWithHolds([
        split(5, 3600),
        { ...split(50, 4 * 3600), approval: true },
        { serve: { variant: 'on' }, holdSeconds: 60 },
      ]),
    ).toBe('“on” 5% for 1 h → approval, then 50% for 4 h → 100% for 1 min');
    expect(describeMilestones([{ serve: { variant: 'a' }, holdSeconds: 1 }, split(50, 1, 'b')])).toBe('“a” → 50% on · 50% b');
    expect(serveInWords({ variant: 'on' }, (k) => k.toUpperCase())).toBe('“ON”');
    expect(serveInWords(split(10).serve)).toBe('10% on · 90% off');
  });

  it('proposes 1 % → 10 % → 50 % → 100 % of the variant to release against what the environment serves now', () => {
    expect(rampVariants(boolean, { defaultServe: { variant: 'off' }, offVariant: 'off' })).toEqual({ release: 'on', rest: 'off' });
    // Already serving `on`: release the other one.
    expect(rampVariants(boolean, { defaultServe: { variant: 'on' }, offVariant: 'off' })).toEqual({ release: 'off', rest: 'on' });
    const three = { variants: [{ key: 'control' }, { key: 'blue' }, { key: 'green' }] };
    expect(rampVariants(three, { defaultServe: { variant: 'control' }, offVariant: 'control' })).toEqual({
      release: 'blue',
      rest: 'control',
    });
    expect(
      rampVariants(three, {
        defaultServe: {
          rollout: [
            { variant: 'control', weight: 50 },
            { variant: 'blue', weight: 50 },
          ],
        },
        offVariant: 'green',
      }),
    ).toEqual({ release: 'control', rest: 'green' });
    const preset = presetMilestones('on', 'off');
    expect(preset.map((m) => m.serve)).toEqual([split(1).serve, split(10).serve, split(50).serve, { variant: 'on' }]);
    expect(preset.every((m) => m.holdSeconds >= 3600 && m.approval === undefined)).toBe(true);
    expect(describeMilestones(preset)).toBe('“on” 1% → 10% → 50% → 100%');
    expect(presetMilestones('only', undefined).map((m) => m.serve)).toEqual(Array(4).fill({ variant: 'only' }));
  });

  it('offers the templates a flag can serve first, and says which variants the others need', () => {
    const template = (name: string, milestones: Milestone[]) => ({
      id: name,
      name,
      milestones,
      createdBy: { userId: 'u1', email: 'ana@example.com' },
      createdAt: '2031-03-09T11:00:00.000Z',
    });
    expect(missingVariants([split(10, 60, 'legacy'), { serve: { variant: 'new' }, holdSeconds: 1 }], boolean)).toEqual(['legacy', 'new']);
    const sorted = templatesFor(
      [template('z-ramp', [split(10)]), template('a-colours', [split(10, 60, 'blue')]), template('b-ramp', [split(50)])],
      boolean,
    );
    expect(sorted.map((c) => [c.template.name, c.missing])).toEqual([
      ['b-ramp', []],
      ['z-ramp', []],
      ['a-colours', ['blue']],
    ]);
  });

  it('places each milestone of a running plan: done, now, next, waiting for approval, later', () => {
    expect(milestoneStates(plan())).toEqual(['done', 'current', 'next', 'waiting']);
    expect(milestoneStates(plan({ step: -1 }))).toEqual(['next', 'waiting', 'waiting', 'waiting']);
    expect(milestoneStates(plan({ awaitingApproval: true, nextAt: null }))).toEqual(['done', 'current', 'approval', 'waiting']);
    expect(milestoneStates(plan({ status: 'paused', nextAt: null }))).toEqual(['done', 'current', 'next', 'waiting']);
    expect(milestoneStates(plan({ status: 'completed', step: 3 }))).toEqual(['done', 'done', 'done', 'done']);
    expect(milestoneStates(plan({ status: 'rolled-back' }))).toEqual(['done', 'done', 'skipped', 'skipped']);
    expect(currentServeOf(plan())).toEqual(split(10).serve);
    expect(currentServeOf(plan({ step: -1 }))).toEqual({ variant: 'off' });
  });

  it('says how a plan ended, and finds the running one and the finished ones of an environment', () => {
    expect(describeEnd(plan({ status: 'completed', step: 3, nextAt: null }))).toBe('Completed: serves “on”.');
    expect(describeEnd(plan({ status: 'rolled-back', outcome: 'rolled back by ann@example.com' }))).toBe(
      'Rolled back at milestone 2 of 4: serves “off” again. Rolled back by ann@example.com.',
    );
    expect(describeEnd(plan({ status: 'rolled-back', step: 0, outcome: 'error rate of on above off by 2 points' }))).toBe(
      'Rolled back at milestone 1 of 4: serves “off” again. Error rate of on above off by 2 points.',
    );
    expect(sentence('paused by ann@example.com')).toBe('Paused by ann@example.com.');
    expect(sentence('Done!')).toBe('Done!');
    const plans = [
      plan({ id: 'a', status: 'completed', updatedAt: '2031-03-01T00:00:00.000Z', createdAt: '2031-03-01T00:00:00.000Z' }),
      plan({ id: 'b', status: 'rolled-back', updatedAt: '2031-03-05T00:00:00.000Z', createdAt: '2031-03-04T00:00:00.000Z' }),
      plan({ id: 'c', status: 'paused', createdAt: '2031-03-06T00:00:00.000Z' }),
      plan({ id: 'd', environment: 'development', status: 'active' }),
    ];
    expect(runningPlanOf(plans, 'production')?.id).toBe('c');
    expect(runningPlanOf(plans, 'staging')).toBeUndefined();
    expect(finishedPlansOf(plans, 'production').map((p) => p.id)).toEqual(['b', 'a']);
    expect(withPlan(plans, plan({ id: 'e', createdAt: '2031-03-10T00:00:00.000Z' })).map((p) => p.id)[0]).toBe('e');
    expect(withPlan(plans, { ...plans[2]!, status: 'rolled-back' }).filter((p) => p.id === 'c')).toHaveLength(1);
  });

  it('tells when a plan moved the flag between two answers: a start, a milestone applied or a rollback, not a pause', () => {
    const before = [plan()];
    expect(changedTheFlag(undefined, before)).toBe(false);
    expect(changedTheFlag(before, [plan({ version: 4 })])).toBe(false);
    expect(changedTheFlag(before, [plan({ status: 'paused', nextAt: null })])).toBe(false);
    expect(changedTheFlag(before, [plan({ step: 2 })])).toBe(true);
    expect(changedTheFlag(before, [plan({ status: 'rolled-back' })])).toBe(true);
    // A plan started meanwhile applied its first milestone, unless that waits for an approval.
    expect(changedTheFlag(before, [plan(), plan({ id: 'new', step: 0 })])).toBe(true);
    expect(changedTheFlag(before, [plan(), plan({ id: 'new', step: -1, awaitingApproval: true })])).toBe(false);
  });
});
