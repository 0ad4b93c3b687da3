import { describe, expect, it } from 'vitest';
import type { EnvironmentConfiguration, FlagConfiguration } from '../contracts/evaluation-model.ts';
import type { Segment } from '../contracts/targeting-model.ts';
import { bucketOf } from './bucketing.ts';
import { compileEnvironment, compileFlag, CompiledFlags, compileSegment, evaluateAll, evaluateFlag } from './index.ts';
import { cond, flag, rule, segment, split } from './test-fixtures.ts';

function env(flags: FlagConfiguration[], segments: Segment[] = []) {
  const config: EnvironmentConfiguration = { environment: 'production', flags, segments };
  return compileEnvironment(config);
}

describe('evaluation order', () => {
  it('answers FLAG_NOT_FOUND for a flag that does not exist, with no value', () => {
    const result = evaluateFlag(env([flag()]), 'nope', { targetingKey: 'u' });
    expect(result).toEqual({ flagKey: 'nope', reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', errorMessage: expect.any(String) as unknown });
  });

  it('answers TYPE_MISMATCH when the expected type differs, before looking at enabled', () => {
    const e = env([flag({ state: { enabled: false } })]);
    expect(evaluateFlag(e, 'checkout', {}, { expectedType: 'string' })).toMatchObject({ reason: 'ERROR', errorCode: 'TYPE_MISMATCH' });
    expect(evaluateFlag(e, 'checkout', {}, { expectedType: 'string' })).not.toHaveProperty('value');
    expect(evaluateFlag(e, 'checkout', {}, { expectedType: 'boolean' })).toMatchObject({ reason: 'DISABLED' });
  });

  it('serves offVariant with DISABLED when the flag is disabled, whatever the rules say', () => {
    const e = env([flag({ state: { enabled: false, defaultServe: { variant: 'on' } }, rules: [rule({ serve: { variant: 'on' } })] })]);
    expect(evaluateFlag(e, 'checkout', { targetingKey: 'u' })).toEqual({
      flagKey: 'checkout',
      value: false,
      variant: 'off',
      reason: 'DISABLED',
    });
  });

  it('serves the first matching rule in priority order, whatever order the rules come in', () => {
    const rules = [
      rule({ id: 'late', priority: 20, conditions: [cond('country', 'eq', ['BR'])], serve: { variant: 'off' } }),
      rule({ id: 'early', priority: 10, conditions: [cond('plan', 'eq', ['pro'])], serve: { variant: 'on' } }),
    ];
    const e = env([flag({ rules })]);
    expect(evaluateFlag(e, 'checkout', { country: 'BR', plan: 'pro' })).toEqual({
      flagKey: 'checkout',
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
      ruleId: 'early',
    });
    expect(evaluateFlag(e, 'checkout', { country: 'BR', plan: 'free' })).toMatchObject({
      variant: 'off',
      reason: 'TARGETING_MATCH',
      ruleId: 'late',
    });
  });

  it('requires every condition of a rule to hold', () => {
    const e = env([
      flag({ rules: [rule({ id: 'r', conditions: [cond('country', 'eq', ['BR']), cond('age', 'gte', [18])], serve: { variant: 'on' } })] }),
    ]);
    expect(evaluateFlag(e, 'checkout', { country: 'BR', age: 20 })).toMatchObject({ ruleId: 'r' });
    expect(evaluateFlag(e, 'checkout', { country: 'BR', age: 10 })).toMatchObject({ reason: 'DEFAULT' });
  });

  it('requires the context to be in every segment a rule references', () => {
    const segments = [
      segment({ key: 'beta', included: ['ana', 'bob'] }),
      segment({ key: 'br', conditions: [cond('country', 'eq', ['BR'])] }),
    ];
    const e = env([flag({ rules: [rule({ id: 'r', segments: ['beta', 'br'], serve: { variant: 'on' } })] })], segments);
    expect(evaluateFlag(e, 'checkout', { targetingKey: 'ana', country: 'BR' })).toMatchObject({ ruleId: 'r' });
    expect(evaluateFlag(e, 'checkout', { targetingKey: 'ana', country: 'US' })).toMatchObject({ reason: 'DEFAULT' });
    expect(evaluateFlag(e, 'checkout', { targetingKey: 'zoe', country: 'BR' })).toMatchObject({ reason: 'DEFAULT' });
  });

  it('never matches a rule that references a segment that does not exist', () => {
    const e = env([flag({ rules: [rule({ segments: ['ghost'], serve: { variant: 'on' } })] })]);
    expect(evaluateFlag(e, 'checkout', { targetingKey: 'ana' })).toMatchObject({ reason: 'DEFAULT', variant: 'off' });
  });

  it('looks segments up at evaluation time: replacing a segment needs no recompilation of flags', () => {
    const e = env(
      [flag({ rules: [rule({ id: 'r', segments: ['beta'], serve: { variant: 'on' } })] })],
      [segment({ key: 'beta', included: ['ana'] })],
    );
    expect(evaluateFlag(e, 'checkout', { targetingKey: 'bob' })).toMatchObject({ reason: 'DEFAULT' });
    e.segments.set('beta', compileSegment(segment({ key: 'beta', included: ['ana', 'bob'] })));
    expect(evaluateFlag(e, 'checkout', { targetingKey: 'bob' })).toMatchObject({ reason: 'TARGETING_MATCH', ruleId: 'r' });
  });
});

describe('reasons', () => {
  it('is STATIC for a variant default on a flag with no rules', () => {
    expect(evaluateFlag(env([flag({ state: { defaultServe: { variant: 'on' } } })]), 'checkout', {})).toEqual({
      flagKey: 'checkout',
      value: true,
      variant: 'on',
      reason: 'STATIC',
    });
  });

  it('is DEFAULT for a variant default on a flag whose rules did not match', () => {
    const e = env([flag({ rules: [rule({ conditions: [cond('country', 'eq', ['BR'])], serve: { variant: 'on' } })] })]);
    expect(evaluateFlag(e, 'checkout', { country: 'US' })).toEqual({
      flagKey: 'checkout',
      value: false,
      variant: 'off',
      reason: 'DEFAULT',
    });
  });

  it('is SPLIT, without a ruleId, for a rollout default', () => {
    const e = env([flag({ state: { defaultServe: split(['on', 50], ['off', 50]) } })]);
    const result = evaluateFlag(e, 'checkout', { targetingKey: 'user-7' });
    expect(result.reason).toBe('SPLIT');
    expect(result).not.toHaveProperty('ruleId');
    expect(result.variant).toBe(bucketOf('checkout-salt', 'user-7') < 50_000 ? 'on' : 'off');
  });

  it('is SPLIT with the ruleId for a rule serving a rollout', () => {
    const e = env([flag({ rules: [rule({ id: 'r', serve: split(['on', 100], ['off', 0]) })] })]);
    expect(evaluateFlag(e, 'checkout', { targetingKey: 'u' })).toEqual({
      flagKey: 'checkout',
      value: true,
      variant: 'on',
      reason: 'SPLIT',
      ruleId: 'r',
    });
  });

  it('is TARGETING_MATCH with the ruleId for a rule serving a variant', () => {
    const e = env([flag({ rules: [rule({ id: 'r', serve: { variant: 'on' } })] })]);
    expect(evaluateFlag(e, 'checkout', {})).toEqual({
      flagKey: 'checkout',
      value: true,
      variant: 'on',
      reason: 'TARGETING_MATCH',
      ruleId: 'r',
    });
  });

  it('answers TARGETING_KEY_MISSING when a rule splits and the context has no targetingKey', () => {
    const e = env([flag({ rules: [rule({ serve: split(['on', 50], ['off', 50]) })] })]);
    expect(evaluateFlag(e, 'checkout', { country: 'BR' })).toMatchObject({ reason: 'ERROR', errorCode: 'TARGETING_KEY_MISSING' });
  });
});

describe('prerequisites', () => {
  const parent = (enabled: boolean, served = 'on') =>
    flag({ key: 'new-ui', salt: 'p', state: { enabled, defaultServe: { variant: served } } });
  const child = flag({
    key: 'checkout',
    state: { defaultServe: { variant: 'on' }, prerequisites: [{ flagKey: 'new-ui', variant: 'on' }] },
  });

  it('serve the flag normally when every prerequisite serves its required variant', () => {
    expect(evaluateFlag(env([parent(true), child]), 'checkout', {})).toMatchObject({ variant: 'on', reason: 'STATIC' });
  });

  it('serve offVariant with DISABLED when a prerequisite serves another variant', () => {
    expect(evaluateFlag(env([parent(true, 'off'), child]), 'checkout', {})).toEqual({
      flagKey: 'checkout',
      value: false,
      variant: 'off',
      reason: 'DISABLED',
    });
    expect(evaluateFlag(env([parent(false), child]), 'checkout', {})).toMatchObject({ variant: 'off', reason: 'DISABLED' });
  });

  it('serve offVariant with DISABLED when the prerequisite flag does not exist', () => {
    expect(evaluateFlag(env([child]), 'checkout', {})).toMatchObject({ variant: 'off', reason: 'DISABLED' });
  });

  it('evaluate the prerequisite with the same context, recursively', () => {
    const grandparent = flag({ key: 'platform', rules: [rule({ conditions: [cond('country', 'eq', ['BR'])], serve: { variant: 'on' } })] });
    const middle = flag({
      key: 'new-ui',
      state: { defaultServe: { variant: 'on' }, prerequisites: [{ flagKey: 'platform', variant: 'on' }] },
    });
    const e = env([grandparent, middle, child]);
    expect(evaluateFlag(e, 'checkout', { country: 'BR' })).toMatchObject({ variant: 'on' });
    expect(evaluateFlag(e, 'checkout', { country: 'US' })).toMatchObject({ variant: 'off', reason: 'DISABLED' });
  });

  it('are not checked when the flag itself is disabled', () => {
    const disabled = flag({ key: 'checkout', state: { enabled: false, prerequisites: [{ flagKey: 'ghost', variant: 'on' }] } });
    expect(evaluateFlag(env([disabled]), 'checkout', {})).toMatchObject({ reason: 'DISABLED' });
  });

  it('survive a cycle that should have been refused at write time (depth guard), answering DISABLED', () => {
    const a = flag({ key: 'a', state: { defaultServe: { variant: 'on' }, prerequisites: [{ flagKey: 'b', variant: 'on' }] } });
    const b = flag({ key: 'b', state: { defaultServe: { variant: 'on' }, prerequisites: [{ flagKey: 'a', variant: 'on' }] } });
    expect(evaluateFlag(env([a, b]), 'a', {})).toMatchObject({ variant: 'off', reason: 'DISABLED' });
  });

  it('accept a chain of ten prerequisites', () => {
    const chain = Array.from({ length: 11 }, (_, i) =>
      flag({
        key: `f${i}`,
        state: { defaultServe: { variant: 'on' }, prerequisites: i < 10 ? [{ flagKey: `f${i + 1}`, variant: 'on' }] : [] },
      }),
    );
    expect(evaluateFlag(env(chain), 'f0', {})).toMatchObject({ variant: 'on' });
  });
});

describe('configurations the engine cannot serve', () => {
  it('answer ERROR GENERAL for a variant the flag does not have, never a throw', () => {
    const e = env([
      flag({ key: 'a', state: { defaultServe: { variant: 'ghost' } } }),
      flag({ key: 'b', state: { enabled: false, offVariant: 'ghost' } }),
      flag({ key: 'c', rules: [rule({ serve: { variant: 'ghost' } })] }),
      flag({ key: 'd', state: { defaultServe: split(['on', 50], ['ghost', 50]) } }),
    ]);
    for (const key of ['a', 'b', 'c']) {
      const result = evaluateFlag(e, key, { targetingKey: 'u' });
      expect(result).toMatchObject({ reason: 'ERROR', errorCode: 'GENERAL' });
      expect(result).not.toHaveProperty('value');
    }
    const variants = new Set(Array.from({ length: 200 }, (_, i) => evaluateFlag(e, 'd', { targetingKey: `u${i}` }).errorCode ?? 'ok'));
    expect(variants).toEqual(new Set(['ok', 'GENERAL']));
  });

  it('answer ERROR GENERAL for a rollout that does not total 100% or a serve with neither form', () => {
    const e = env([
      flag({ key: 'a', state: { defaultServe: split(['on', 50], ['off', 40]) } }),
      flag({ key: 'b', state: { defaultServe: {} } }),
    ]);
    expect(evaluateFlag(e, 'a', { targetingKey: 'u' })).toMatchObject({ reason: 'ERROR', errorCode: 'GENERAL' });
    expect(evaluateFlag(e, 'b', { targetingKey: 'u' })).toMatchObject({ reason: 'ERROR', errorCode: 'GENERAL' });
  });

  it('answer INVALID_CONTEXT for a context that is not an object, and read undefined as the empty context', () => {
    const e = env([flag()]);
    expect(evaluateFlag(e, 'checkout', 'user-1' as never)).toMatchObject({ reason: 'ERROR', errorCode: 'INVALID_CONTEXT' });
    expect(evaluateFlag(e, 'checkout', [] as never)).toMatchObject({ reason: 'ERROR', errorCode: 'INVALID_CONTEXT' });
    expect(evaluateFlag(e, 'checkout', undefined as never)).toMatchObject({ reason: 'STATIC' });
  });
});

describe('results', () => {
  it('carry the variant value of the flag type, json included', () => {
    const json = flag({
      type: 'json',
      variants: [
        { key: 'cfg', value: { limits: [1, 2] } },
        { key: 'off', value: null },
      ],
      state: { defaultServe: { variant: 'cfg' } },
    });
    expect(evaluateFlag(env([json]), 'checkout', {}, { expectedType: 'json' })).toMatchObject({
      value: { limits: [1, 2] },
      variant: 'cfg',
    });
  });

  it('are frozen and shared, and do not change when the input configuration is changed after compiling', () => {
    const value = { limits: [1, 2] };
    const json = flag({
      type: 'json',
      variants: [
        { key: 'cfg', value },
        { key: 'off', value: null },
      ],
      state: { defaultServe: { variant: 'cfg' } },
    });
    const e = env([json]);
    const result = evaluateFlag(e, 'checkout', {});
    expect(Object.isFrozen(result)).toBe(true);
    expect(Object.isFrozen(result.value)).toBe(true);
    value.limits.push(3);
    expect(evaluateFlag(e, 'checkout', {}).value).toEqual({ limits: [1, 2] });
    expect(evaluateFlag(e, 'checkout', {})).toBe(result);
  });

  it('do not depend on the order of compileFlag calls: a flag compiled alone answers like one in an environment', () => {
    const config = flag({ rules: [rule({ serve: split(['on', 30], ['off', 70]) })] });
    const alone = { flags: new CompiledFlags([compileFlag(config)]), segments: new Map() };
    const together = env([config, flag({ key: 'other' })]);
    for (let i = 0; i < 100; i++)
      expect(evaluateFlag(alone, 'checkout', { targetingKey: `u${i}` })).toEqual(
        evaluateFlag(together, 'checkout', { targetingKey: `u${i}` }),
      );
  });
});

describe('evaluateAll', () => {
  it('evaluates every flag, in key order', () => {
    const e = env([
      flag({ key: 'zeta' }),
      flag({ key: 'alpha', state: { defaultServe: { variant: 'on' } } }),
      flag({ key: 'mid', state: { enabled: false } }),
    ]);
    expect(evaluateAll(e, {}).map((r) => [r.flagKey, r.reason])).toEqual([
      ['alpha', 'STATIC'],
      ['mid', 'DISABLED'],
      ['zeta', 'STATIC'],
    ]);
  });

  it('keeps key order as flags are added, replaced and removed after it was first used', () => {
    const e = env([flag({ key: 'b' }), flag({ key: 'd' })]);
    expect(evaluateAll(e, {}).map((r) => r.flagKey)).toEqual(['b', 'd']);
    e.flags.set('a', compileFlag(flag({ key: 'a' })));
    expect(evaluateAll(e, {}).map((r) => r.flagKey)).toEqual(['a', 'b', 'd']);
    e.flags.set('b', compileFlag(flag({ key: 'b', state: { enabled: false } })));
    e.flags.delete('d');
    e.flags.set('c', compileFlag(flag({ key: 'c' })));
    expect(evaluateAll(e, {}).map((r) => [r.flagKey, r.reason])).toEqual([
      ['a', 'STATIC'],
      ['b', 'DISABLED'],
      ['c', 'STATIC'],
    ]);
    e.flags.clear();
    expect(evaluateAll(e, {})).toEqual([]);
  });
});

describe('a caller scoped to a project', () => {
  const e = () =>
    env([
      flag({ key: 'a1', project: 'alpha' }),
      flag({ key: 'b1', project: 'beta', clientVisible: true }),
      flag({ key: 'a2', project: 'alpha', clientVisible: true }),
      flag({ key: 'loose' }),
    ]);

  it('finds only its project’s flags: another project’s answers as a flag that does not exist', () => {
    const compiled = e();
    expect(evaluateFlag(compiled, 'a1', {}, { project: 'alpha' })).toMatchObject({ flagKey: 'a1', reason: 'STATIC' });
    const other = evaluateFlag(compiled, 'b1', {}, { project: 'alpha' });
    const unknown = evaluateFlag(compiled, 'nope', {}, { project: 'alpha' });
    expect(other).toEqual({ ...unknown, flagKey: 'b1', errorMessage: 'no flag "b1" in this environment' });
    expect(evaluateFlag(compiled, 'b1', {}, { project: 'alpha', clientSide: true })).toMatchObject({ errorCode: 'FLAG_NOT_FOUND' });
    expect(evaluateFlag(compiled, 'a1', {}, { project: 'alpha', clientSide: true })).toMatchObject({ errorCode: 'FLAG_NOT_FOUND' });
    // Not scoped (targeting's match, an in-process SDK's one-project configuration): every flag.
    expect(evaluateFlag(compiled, 'b1', {})).toMatchObject({ reason: 'STATIC' });
  });

  it('evaluates in bulk its project’s flags in key order, kept right as flags come and go', () => {
    const compiled = e();
    const keys = (options: Parameters<typeof evaluateAll>[2]) => evaluateAll(compiled, {}, options).map((r) => r.flagKey);
    expect(keys({ project: 'alpha' })).toEqual(['a1', 'a2']);
    expect(keys({ project: 'alpha', clientSide: true })).toEqual(['a2']);
    expect(keys({ project: 'beta' })).toEqual(['b1']);
    expect(keys({ project: 'gamma' })).toEqual([]);
    expect(keys(undefined)).toEqual(['a1', 'a2', 'b1', 'loose']);
    // The same list is served until a flag is added or removed (no sorting or filtering per request).
    expect(compiled.flags.keysInOrder('alpha')).toBe(compiled.flags.keysInOrder('alpha'));
    compiled.flags.set('a0', compileFlag(flag({ key: 'a0', project: 'alpha' })));
    compiled.flags.set('b1', compileFlag(flag({ key: 'b1', project: 'alpha' })));
    compiled.flags.delete('a2');
    expect(keys({ project: 'alpha' })).toEqual(['a0', 'a1', 'b1']);
    expect(keys({ project: 'beta' })).toEqual([]);
  });
});
