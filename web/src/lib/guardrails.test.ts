import { describe, expect, it } from 'vitest';
import type { GuardrailCheck, MetricAggregate, Milestone } from '../api/types.ts';
import {
  chartRows,
  checkGuardrail,
  checkGuardrails,
  cumulativeSeries,
  describeCheck,
  describeGuardrail,
  formatDifference,
  formatMetricValue,
  formatP,
  formatPValue,
  guardrailMetrics,
  guardrailRollbackOf,
  limitOf,
  meanWithInterval,
  mergeMetricRows,
  metricWindows,
  newGuardrailDraft,
  parseDecimal,
  prefillVariants,
  sampleRatioRows,
  servedVariants,
  type GuardrailDraft,
} from './guardrails.ts';

const keys = ['on', 'off'];
const draft = (overrides: Partial<GuardrailDraft> = {}): GuardrailDraft => ({
  metric: 'checkout.error',
  treatment: 'on',
  control: 'off',
  worseWhen: 'higher',
  maxDifference: '0.01',
  alpha: '0.05',
  minSamples: '',
  ...overrides,
});
const split = (on: number, rest = 'off'): Milestone => ({
  serve: {
    rollout: [
      { variant: 'on', weight: on },
      { variant: rest, weight: 100 - on },
    ],
  },
  holdSeconds: 60,
});
const row = (variant: string, minute: string, values: number[], metric = 'latency'): MetricAggregate => ({
  metric,
  variant,
  minute: `2031-03-09T12:${minute}:00.000Z`,
  count: values.length,
  sum: values.reduce((a, b) => a + b, 0),
  sumOfSquares: values.reduce((a, b) => a + b * b, 0),
});
const at = (minute: string) => Date.parse(`2031-03-09T12:${minute}:00.000Z`);
const check = (overrides: Partial<GuardrailCheck> = {}): GuardrailCheck => ({
  metric: 'checkout.error',
  checkedAt: '2031-03-09T12:00:00.000Z',
  treatment: { variant: 'on', count: 1200, mean: 0.05 },
  control: { variant: 'off', count: 1250, mean: 0.01 },
  difference: 0.04,
  maxDifference: 0.01,
  pValue: 0.003,
  alpha: 0.05,
  verdict: 'breach',
  ...overrides,
});

describe('guardrails in the console', () => {
  it('checks a guardrail as the API does, field by field, and sends the defaults as left out', () => {
    expect(checkGuardrail(draft(), keys)).toEqual({
      guardrail: { metric: 'checkout.error', treatment: 'on', control: 'off', worseWhen: 'higher', maxDifference: 0.01, alpha: 0.05 },
      errors: {},
    });
    expect(checkGuardrail(draft({ alpha: '', minSamples: '500', maxDifference: '0', worseWhen: 'lower' }), keys).guardrail).toEqual({
      metric: 'checkout.error',
      treatment: 'on',
      control: 'off',
      worseWhen: 'lower',
      maxDifference: 0,
      minSamples: 500,
    });
    expect(checkGuardrail(draft({ metric: '  latency_ms ', maxDifference: '12,5' }), keys).guardrail).toMatchObject({
      metric: 'latency_ms',
      maxDifference: 12.5,
    });
    const errors = (d: Partial<GuardrailDraft>) => checkGuardrail(draft(d), keys).errors;
    expect(errors({ metric: '' }).metric).toMatch(/Name the metric/);
    expect(errors({ metric: '-error' }).metric).toMatch(/starting with a letter or a digit/);
    expect(errors({ metric: 'checkout error' }).metric).toMatch(/Letters, digits/);
    expect(errors({ metric: 'a'.repeat(100) }).metric).toBeUndefined();
    expect(errors({ metric: 'a'.repeat(101) }).metric).toBe('At most 100 characters');
    expect(errors({ control: 'on' }).control).toBe('Compare with another variant than the treatment');
    expect(errors({ treatment: 'blue' }).treatment).toBe('“blue” is not a variant of this flag');
    expect(errors({ treatment: '' }).treatment).toBe('Choose the variant being released');
    expect(errors({ maxDifference: '' }).maxDifference).toMatch(/How much worse/);
    expect(errors({ maxDifference: '-0.01' }).maxDifference).toBe('At least 0');
    expect(errors({ maxDifference: 'one point' }).maxDifference).toBe('A number, like 0.01 or 50');
    expect(errors({ maxDifference: '2e9' }).maxDifference).toBe('At most 1,000,000,000');
    expect(errors({ alpha: '0' }).alpha).toBe('More than 0');
    expect(errors({ alpha: '0.2' }).alpha).toBeUndefined();
    expect(errors({ alpha: '0.25' }).alpha).toBe('At most 0.2');
    expect(errors({ minSamples: '29' }).minSamples).toBe('At least 30');
    expect(errors({ minSamples: '100.5' }).minSamples).toBe('A whole number of events, like 100');
    expect(errors({ minSamples: '1000001' }).minSamples).toBe('At most 1,000,000');
    expect(checkGuardrail(draft({ maxDifference: 'x' }), keys).guardrail).toBeUndefined();
    expect([parseDecimal('.5'), parseDecimal('1e-3'), parseDecimal('1.'), parseDecimal(''), parseDecimal('0x10')]).toEqual([
      0.5,
      0.001,
      1,
      undefined,
      undefined,
    ]);
  });

  it('checks the guardrails of a plan together: none is fine, at most ten, the same comparison not twice', () => {
    expect(checkGuardrails([], keys)).toEqual({ guardrails: [], errors: [] });
    const twice = checkGuardrails([draft(), draft({ maxDifference: '0.02' }), draft({ metric: 'latency' })], keys);
    expect(twice.guardrails).toBeUndefined();
    expect(twice.errors.map((e) => e.metric)).toEqual([undefined, 'The same comparison as guardrail 1', undefined]);
    expect(checkGuardrails([draft(), draft({ control: 'on', treatment: 'off' })], keys).guardrails).toHaveLength(2);
    const eleven = Array.from({ length: 11 }, (_, i) => draft({ metric: `m${i}` }));
    expect(checkGuardrails(eleven, keys)).toMatchObject({ problem: 'At most 10 guardrails' });
    expect(checkGuardrails(eleven, keys).guardrails).toBeUndefined();
    expect(checkGuardrails(eleven.slice(0, 10), keys).guardrails).toHaveLength(10);
  });

  it('prefills the treatment with the variant the last milestone ramps toward and the control with another one', () => {
    const ramp = [split(1), split(10), split(50), { serve: { variant: 'on' }, holdSeconds: 60 }];
    expect(prefillVariants(ramp, keys, { variant: 'off' })).toEqual({ treatment: 'on', control: 'off' });
    // The environment serves a split now: the control is the variant the milestones give the most besides the treatment.
    const three = ['control', 'blue', 'green'];
    const colours: Milestone[] = [
      {
        serve: {
          rollout: [
            { variant: 'blue', weight: 10 },
            { variant: 'green', weight: 5 },
            { variant: 'control', weight: 85 },
          ],
        },
        holdSeconds: 60,
      },
      {
        serve: {
          rollout: [
            { variant: 'blue', weight: 60 },
            { variant: 'green', weight: 20 },
            { variant: 'control', weight: 20 },
          ],
        },
        holdSeconds: 60,
      },
    ];
    expect(prefillVariants(colours, three, { rollout: [{ variant: 'control', weight: 100 }] })).toEqual({
      treatment: 'blue',
      control: 'control',
    });
    // What the environment serves now, when it is another single variant, is the control.
    expect(prefillVariants(colours, three, { variant: 'green' })).toEqual({ treatment: 'blue', control: 'green' });
    // Serving the treatment already, or no milestones: any other variant.
    expect(prefillVariants([{ serve: { variant: 'off' }, holdSeconds: 1 }], keys, { variant: 'off' })).toEqual({
      treatment: 'off',
      control: 'on',
    });
    expect(prefillVariants([], keys, undefined)).toEqual({ treatment: 'on', control: 'off' });
    expect(prefillVariants([], ['only'], undefined)).toEqual({ treatment: 'only', control: '' });
    expect(newGuardrailDraft(ramp, keys, { variant: 'off' })).toEqual({
      metric: '',
      treatment: 'on',
      control: 'off',
      worseWhen: 'higher',
      maxDifference: '',
      alpha: '0.05',
      minSamples: '',
    });
    expect([...servedVariants([split(100), { serve: { variant: 'on' }, holdSeconds: 1 }])]).toEqual(['on']);
  });

  it('computes a mean and its 95 % confidence interval from count, sum and sum of squares (sample variance)', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample variance 32/7, standard error √(4/7) ≈ 0.7559, half-width 1.96 × that ≈ 1.4816.
    const estimate = meanWithInterval({ count: 8, sum: 40, sumOfSquares: 232 })!;
    expect(estimate.mean).toBe(5);
    expect(estimate.sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(estimate.sd).toBeCloseTo(2.13809, 5);
    expect(estimate.low).toBeCloseTo(3.518379, 6);
    expect(estimate.high).toBeCloseTo(6.481621, 6);
    // A 0/1 rate: 30 errors in 1000 events, mean 0.03, sd √(0.03 · 0.97 · 1000/999).
    const rate = meanWithInterval({ count: 1000, sum: 30, sumOfSquares: 30 })!;
    expect(rate.mean).toBe(0.03);
    expect(rate.high! - rate.mean).toBeCloseTo((1.96 * Math.sqrt((0.03 * 0.97 * 1000) / 999)) / Math.sqrt(1000), 12);
    expect(rate.high! - rate.mean).toBeCloseTo(0.010578, 6);
    // One event: a mean, no interval; none: nothing; a constant sample: a zero-width interval.
    expect(meanWithInterval({ count: 1, sum: 7, sumOfSquares: 49 })).toEqual({
      count: 1,
      mean: 7,
      sd: undefined,
      low: undefined,
      high: undefined,
    });
    expect(meanWithInterval({ count: 0, sum: 0, sumOfSquares: 0 })).toBeUndefined();
    expect(meanWithInterval({ count: 3, sum: 0.3, sumOfSquares: 0.03 })).toMatchObject({ sd: 0 });
  });

  it('accumulates a metric per variant minute by minute, and makes chart rows that carry each variant forward', () => {
    const items = [row('on', '03', [1]), row('on', '01', [1, 0, 1]), row('off', '02', [0, 0]), row('on', '02', [100], 'other-metric')];
    const series = cumulativeSeries(items, 'latency');
    expect([...series.keys()].sort()).toEqual(['off', 'on']);
    const on = series.get('on')!;
    // Minute 1: 1, 0, 1 → mean 2/3, variance 1/3, half-width 1.96 · √(1/3) / √3 = 0.65333…
    expect(on[0]!.at).toBe(at('01'));
    expect(on[0]!.count).toBe(3);
    expect(on[0]!.mean).toBeCloseTo(2 / 3, 12);
    expect(on[0]!.low).toBeCloseTo(0.013333, 6);
    expect(on[0]!.high).toBeCloseTo(1.32, 12);
    // Minute 3 adds 1: 1, 0, 1, 1 → mean 0.75, variance 0.25, half-width 1.96 · 0.5 / 2 = 0.49.
    expect(on[1]).toMatchObject({ at: at('03'), count: 4, mean: 0.75, sd: 0.5 });
    expect(on[1]!.low).toBeCloseTo(0.26, 12);
    expect(on[1]!.high).toBeCloseTo(1.24, 12);
    expect(series.get('off')).toEqual([{ at: at('02'), count: 2, mean: 0, sd: 0, low: 0, high: 0 }]);

    const rows = chartRows(series, ['on', 'off']);
    expect(rows.map((r) => [r.at, r.values.on?.count, r.values.off?.count])).toEqual([
      [at('01'), 3, undefined],
      [at('02'), 3, 2],
      [at('03'), 4, 2],
    ]);
    // Where the guardrail would breach: control's mean plus the allowed difference (minus it when lower is worse).
    expect(limitOf(rows[0]!, { control: 'off', maxDifference: 0.1, worseWhen: 'higher' })).toBeUndefined();
    expect(limitOf(rows[2]!, { control: 'off', maxDifference: 0.1, worseWhen: 'higher' })).toBe(0.1);
    expect(limitOf(rows[2]!, { control: 'on', maxDifference: 0.25, worseWhen: 'lower' })).toBe(0.5);
  });

  it('keeps at most so many chart rows, the last one always', () => {
    const items = Array.from({ length: 50 }, (_, i) => row('on', String(i).padStart(2, '0'), [i]));
    const rows = chartRows(cumulativeSeries(items, 'latency'), ['on'], 10);
    expect(rows.map((r) => r.values.on!.count)).toEqual([1, 6, 11, 16, 21, 26, 31, 36, 41, 46, 50]);
    expect(rows.at(-1)!.values.on!.mean).toBe(24.5);
  });

  it('says guardrails and checks in words', () => {
    expect(formatMetricValue(0.0523412)).toBe('0.05234');
    expect(formatMetricValue(1234.56)).toBe('1235');
    expect(formatMetricValue(12.5)).toBe('12.5');
    expect(formatMetricValue(0)).toBe('0');
    expect([formatDifference(0.04), formatDifference(-2.5), formatDifference(0)]).toEqual(['+0.04', '−2.5', '0']);
    expect([formatPValue(0.0004), formatPValue(0.04213), formatPValue(1), formatPValue(0.5)]).toEqual(['< 0.001', '0.042', '1', '0.5']);
    expect(describeGuardrail({ metric: 'e', treatment: 'on', control: 'off', maxDifference: 0.01 })).toBe('“on” at most 0.01 above “off”');
    expect(
      describeGuardrail({ metric: 'c', treatment: 'on', control: 'off', maxDifference: 0.02, worseWhen: 'lower' }, (k) => k.toUpperCase()),
    ).toBe('“ON” at most 0.02 below “OFF”');
    expect([formatP(0.042), formatP(0.00001)]).toEqual(['p = 0.042', 'p < 0.001']);
    expect(describeCheck(check())).toBe('Worse than allowed beyond chance: p = 0.003, below α = 0.05.');
    expect(describeCheck(check({ verdict: 'breach', pValue: 0.0001 }))).toBe(
      'Worse than allowed beyond chance: p < 0.001, below α = 0.05.',
    );
    expect(describeCheck(check({ verdict: 'no-breach-yet', difference: 0.002, pValue: 1 }))).toBe(
      'Within the allowed difference so far (p = 1; a breach needs p below α = 0.05).',
    );
    expect(describeCheck(check({ verdict: 'no-breach-yet', pValue: 0.2 }))).toBe(
      'Worse than allowed so far, but not yet beyond chance (p = 0.2, not below α = 0.05).',
    );
    expect(
      describeCheck(
        check({
          verdict: 'too-few-samples',
          treatment: { variant: 'on', count: 12, mean: 0 },
          control: { variant: 'off', count: 1500, mean: 0 },
        }),
        1000,
      ),
    ).toBe('No verdict before each variant has 1,000 events (on: 12, off: 1,500).');
    expect(
      guardrailMetrics([
        { metric: 'a', treatment: 'on', control: 'off', maxDifference: 0 },
        { metric: 'b', treatment: 'on', control: 'off', maxDifference: 0 },
        { metric: 'a', treatment: 'off', control: 'on', maxDifference: 0 },
      ]),
    ).toEqual(['a', 'b']);
  });

  it('puts the split served beside the weights', () => {
    const rows = sampleRatioRows({
      checkedAt: '2031-03-09T12:00:00.000Z',
      observed: { on: 90, off: 910 },
      weights: { on: 10, off: 90 },
      pValue: 0.3,
      mismatch: false,
    });
    expect(rows).toEqual([
      { variant: 'on', observed: 90, observedShare: 9, expectedShare: 10 },
      { variant: 'off', observed: 910, observedShare: 91, expectedShare: 90 },
    ]);
  });

  it('tells a rollback by a guardrail from one by a person', () => {
    const guardrails = [
      { metric: 'latency', treatment: 'on', control: 'off', maxDifference: 50 },
      { metric: 'checkout.error', treatment: 'on', control: 'off', maxDifference: 0.01 },
    ];
    const plan = { status: 'rolled-back' as const, outcome: 'rolled back by the guardrail checkout.error', guardrails };
    const holding = check({ metric: 'latency', verdict: 'no-breach-yet' });
    expect(guardrailRollbackOf({ ...plan, guardrailChecks: [holding, check()] })).toEqual({ index: 1, check: check() });
    expect(guardrailRollbackOf({ ...plan, guardrailChecks: [] })).toEqual({ index: undefined, check: undefined });
    expect(guardrailRollbackOf({ ...plan, outcome: 'rolled back by ann@example.com', guardrailChecks: [holding] })).toBeUndefined();
    expect(guardrailRollbackOf({ ...plan, status: 'active', guardrailChecks: [check()] })).toBeUndefined();
  });

  it('asks a long plan’s metric events a day at a time, the days aligned on its start, at most so many', () => {
    const start = Date.parse('2031-03-09T11:00:30.000Z');
    const hour = 3_600_000;
    const day = 24 * hour;
    expect(metricWindows(start, start + 2 * hour)).toEqual({ windows: [{ index: 0, from: start, to: start + 2 * hour }], since: start });
    // Asked right after the start (or with a clock behind the server's): a minute at least, never from after to.
    expect(metricWindows(start, start - 5000).windows).toEqual([{ index: 0, from: start, to: start + 60_000 }]);
    expect(metricWindows(start, start + 2 * day + hour).windows).toEqual([
      { index: 0, from: start, to: start + day },
      { index: 1, from: start + day, to: start + 2 * day },
      { index: 2, from: start + 2 * day, to: start + 2 * day + hour },
    ]);
    const long = metricWindows(start, start + 20 * day + hour, day, 14);
    expect(long.windows).toHaveLength(14);
    expect(long.windows[0]).toEqual({ index: 7, from: start + 7 * day, to: start + 8 * day });
    expect(long.since).toBe(start + 7 * day);
    expect(long.windows.at(-1)).toEqual({ index: 20, from: start + 20 * day, to: start + 20 * day + hour });
  });

  it('merges the answers of several windows, a minute on both sides of a boundary once', () => {
    const first = [row('on', '01', [1]), row('off', '02', [2])];
    const second = [row('off', '02', [2]), row('on', '03', [3]), row('on', '01', [5], 'errors')];
    expect(mergeMetricRows([first, second]).map((r) => [r.metric, r.variant, r.minute.slice(14, 16), r.sum])).toEqual([
      ['errors', 'on', '01', 5],
      ['latency', 'off', '02', 2],
      ['latency', 'on', '01', 1],
      ['latency', 'on', '03', 3],
    ]);
  });
});
