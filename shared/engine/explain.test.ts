import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EvaluationContext, FlagConfiguration } from '../contracts/evaluation-model.ts';
import type { Prerequisite, Serve } from '../contracts/flag-model.ts';
import { operators, type Condition, type Rule, type Segment } from '../contracts/targeting-model.ts';
import { compileEnvironment, evaluateFlag, explainFlag } from './index.ts';
import { cond, flag, rule, segment } from './test-fixtures.ts';

describe('explainFlag', () => {
  const segments = [segment({ key: 'beta', included: ['ana'] })];
  const config = flag({
    state: { prerequisites: [{ flagKey: 'platform', variant: 'on' }] },
    rules: [
      rule({
        id: 'br',
        priority: 1,
        conditions: [cond('country', 'eq', ['BR']), cond('age', 'gte', [18], true)],
        serve: { variant: 'on' },
      }),
      rule({ id: 'beta', priority: 2, segments: ['beta', 'ghost'], serve: { variant: 'on' } }),
    ],
  });
  const platform = flag({ key: 'platform', state: { defaultServe: { variant: 'on' } } });
  const env = compileEnvironment({ environment: 'production', flags: [config, platform], segments });

  it('says which conditions held, with the values it read, for every rule in priority order', () => {
    const explanation = explainFlag(env, 'checkout', { targetingKey: 'ana', country: 'BR', age: 30 });
    expect(explanation.result).toEqual(evaluateFlag(env, 'checkout', { targetingKey: 'ana', country: 'BR', age: 30 }));
    expect(explanation.result.reason).toBe('DEFAULT');
    expect(explanation.prerequisites).toEqual([{ flagKey: 'platform', variant: 'on', served: 'on', met: true }]);
    expect(explanation.rules).toEqual([
      {
        ruleId: 'br',
        priority: 1,
        matched: false,
        conditions: [
          { attribute: 'country', operator: 'eq', negate: false, held: true, actual: 'BR' },
          { attribute: 'age', operator: 'gte', negate: true, held: false, actual: 30 },
        ],
        segments: [],
      },
      {
        ruleId: 'beta',
        priority: 2,
        matched: false,
        conditions: [],
        segments: [
          { key: 'beta', held: true },
          { key: 'ghost', held: false },
        ],
      },
    ]);
  });

  it('reports a missing prerequisite as not met', () => {
    const alone = compileEnvironment({ environment: 'production', flags: [config], segments });
    const explanation = explainFlag(alone, 'checkout', {});
    expect(explanation.result).toMatchObject({ reason: 'DISABLED' });
    expect(explanation.prerequisites).toEqual([{ flagKey: 'platform', variant: 'on', met: false }]);
  });

  it('explains a flag that does not exist with its error and nothing else', () => {
    expect(explainFlag(env, 'nope', {})).toEqual({ result: evaluateFlag(env, 'nope', {}), prerequisites: [], rules: [] });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Random configurations and contexts: explainFlag must agree with evaluateFlag.

const attributes = ['country', 'plan', 'age', 'app', 'signup', 'email', 'account.tier', 'targetingKey'] as const;
const scalar = fc.oneof(
  fc.constantFrom(
    'BR',
    'US',
    'pro',
    'free',
    '18',
    '1.2.0',
    'v2.0.0',
    '2025-01-01',
    '2025-06-01T00:00:00Z',
    'ana',
    'bob',
    '@example.com',
    '^a',
    'true',
    '',
  ),
  fc.integer({ min: 0, max: 40 }),
  fc.boolean(),
);
const segmentKeys = ['s1', 's2', 'ghost'];
const targetingKeys = ['ana', 'bob', 'cid', 'dan'];

const condition: fc.Arbitrary<Condition> = fc
  .record({
    attribute: fc.constantFrom(...attributes),
    operator: fc.constantFrom(...operators),
    values: fc.array(scalar, { maxLength: 3 }),
    negate: fc.boolean(),
  })
  .map((c) =>
    c.operator === 'in_segment' || c.operator === 'not_in_segment'
      ? { ...c, values: ['s1', 's2', 'ghost'].slice(0, Math.max(1, c.values.length)) }
      : c,
  );

const serve: fc.Arbitrary<Serve> = fc.oneof(
  fc.constantFrom('on', 'off', 'ghost').map((variant) => ({ variant })),
  fc.integer({ min: 0, max: 100 }).map((w) => ({
    rollout: [
      { variant: 'on', weight: w },
      { variant: 'off', weight: 100 - w },
    ],
  })),
);

const rules: fc.Arbitrary<Rule[]> = fc
  .array(fc.record({ conditions: fc.array(condition, { maxLength: 2 }), segments: fc.subarray(segmentKeys, { maxLength: 1 }), serve }), {
    maxLength: 4,
  })
  .map((list) => list.map((r, i) => rule({ ...r, id: `r${i}`, priority: (i * 7) % 5 })));

const segmentArb = (key: string): fc.Arbitrary<Segment> =>
  fc
    .record({
      conditions: fc.array(condition, { maxLength: 2 }),
      included: fc.subarray(targetingKeys),
      excluded: fc.subarray(targetingKeys),
    })
    .map((s) => segment({ key, ...s }));

const flagArb = (key: string, prerequisites: boolean): fc.Arbitrary<FlagConfiguration> =>
  fc
    .record({
      enabled: fc.oneof({ arbitrary: fc.constant(true), weight: 9 }, { arbitrary: fc.constant(false), weight: 1 }),
      defaultServe: serve,
      rules,
      prerequisites: prerequisites
        ? fc.oneof(
            { arbitrary: fc.constant<Prerequisite[]>([]), weight: 6 },
            { arbitrary: fc.constant<Prerequisite[]>([{ flagKey: 'parent', variant: 'on' }]), weight: 3 },
            { arbitrary: fc.constant<Prerequisite[]>([{ flagKey: 'missing', variant: 'on' }]), weight: 1 },
          )
        : fc.constant<Prerequisite[]>([]),
    })
    .map(({ enabled, defaultServe, rules: r, prerequisites: p }) =>
      flag({ key, salt: `${key}-salt`, rules: r, state: { enabled, defaultServe, prerequisites: p } }),
    );

const contextArb: fc.Arbitrary<EvaluationContext> = fc.record(
  {
    targetingKey: fc.constantFrom(...targetingKeys),
    country: scalar,
    plan: scalar,
    age: fc.oneof(scalar, fc.double()),
    app: scalar,
    signup: fc.oneof(scalar, fc.integer()),
    email: fc.oneof(scalar, fc.emailAddress()),
    account: fc.oneof(fc.record({ tier: scalar }), scalar),
  },
  { requiredKeys: [] },
);

describe('explainFlag against evaluateFlag on random configurations and contexts', () => {
  it('gives the same result, and its rules say which rule decided', () => {
    fc.assert(
      fc.property(
        flagArb('checkout', true),
        flagArb('parent', false),
        segmentArb('s1'),
        segmentArb('s2'),
        contextArb,
        (config, parent, s1, s2, context) => {
          const env = compileEnvironment({ environment: 'production', flags: [config, parent], segments: [s1, s2] });
          const result = evaluateFlag(env, 'checkout', context);
          const explanation = explainFlag(env, 'checkout', context);
          expect(explanation.result).toEqual(result);

          for (const r of explanation.rules) {
            expect(r.matched).toBe(r.conditions.every((c) => c.held) && r.segments.every((s) => s.held));
          }
          const prerequisitesMet = explanation.prerequisites.every((p) => p.met);
          const firstMatch = explanation.rules.find((r) => r.matched);
          if (!config.state.enabled || !prerequisitesMet) {
            if (result.reason !== 'ERROR') expect(result.reason).toBe('DISABLED');
          } else if (firstMatch !== undefined) {
            if (result.reason === 'ERROR') expect(['GENERAL', 'TARGETING_KEY_MISSING']).toContain(result.errorCode);
            else expect(result.ruleId).toBe(firstMatch.ruleId);
          } else {
            expect(result.ruleId).toBeUndefined();
            if (result.reason !== 'ERROR')
              expect(result.reason).toBe(
                config.rules.length === 0
                  ? config.state.defaultServe.rollout
                    ? 'SPLIT'
                    : 'STATIC'
                  : config.state.defaultServe.rollout
                    ? 'SPLIT'
                    : 'DEFAULT',
              );
          }
          expect(explanation.rules.map((r) => r.priority)).toEqual([...explanation.rules.map((r) => r.priority)].sort((a, b) => a - b));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
