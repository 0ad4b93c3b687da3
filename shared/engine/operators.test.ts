import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EvaluationContext } from '../contracts/evaluation-model.ts';
import { operators, type Condition } from '../contracts/targeting-model.ts';
import { compileCondition } from './compile-condition.ts';
import { compileSegment, type CompiledSegment } from './compile-segment.ts';
import { conditionHolds } from './match.ts';
import { cond, segment } from './test-fixtures.ts';

const noSegments = new Map<string, CompiledSegment>();

function holds(condition: Condition, context: EvaluationContext, segments: ReadonlyMap<string, CompiledSegment> = noSegments): boolean {
  return conditionHolds(compileCondition(condition), context, segments, 0);
}

/** Asserts the condition's answer, and that negating it gives the opposite answer. */
function expectHolds(condition: Condition, context: EvaluationContext, expected: boolean): void {
  expect(holds(condition, context), `${JSON.stringify(condition)} on ${JSON.stringify(context)}`).toBe(expected);
  expect(holds({ ...condition, negate: !(condition.negate ?? false) }, context), `negated ${JSON.stringify(condition)}`).toBe(!expected);
}

describe('eq / neq / in / not_in', () => {
  it('compares strings to strings, exactly and case-sensitively', () => {
    expectHolds(cond('country', 'eq', ['BR']), { country: 'BR' }, true);
    expectHolds(cond('country', 'eq', ['BR']), { country: 'br' }, false);
    expectHolds(cond('country', 'in', ['BR', 'US']), { country: 'US' }, true);
    expectHolds(cond('country', 'in', ['BR', 'US']), { country: 'DE' }, false);
  });

  it('compares numbers to numbers and booleans to booleans', () => {
    expectHolds(cond('age', 'eq', [30]), { age: 30 }, true);
    expectHolds(cond('age', 'eq', [30]), { age: 31 }, false);
    expectHolds(cond('beta', 'eq', [true]), { beta: true }, true);
    expectHolds(cond('beta', 'eq', [true]), { beta: false }, false);
    expectHolds(cond('beta', 'eq', [false]), { beta: false }, true);
  });

  it('lets a numeric string attribute equal a number value ("5" eq 5)', () => {
    expectHolds(cond('seats', 'eq', [5]), { seats: '5' }, true);
    expectHolds(cond('seats', 'eq', [5]), { seats: '5.0' }, true);
    expectHolds(cond('seats', 'eq', [5]), { seats: '6' }, false);
    expectHolds(cond('seats', 'eq', [5]), { seats: '5 seats' }, false);
    expectHolds(cond('seats', 'eq', [16]), { seats: '0x10' }, false);
  });

  it('lets a number attribute equal a numeric string value (5 eq "5")', () => {
    expectHolds(cond('seats', 'in', ['5', '7']), { seats: 5 }, true);
    expectHolds(cond('seats', 'in', ['5', '7']), { seats: 6 }, false);
  });

  it('does not equate two different strings because they are the same number', () => {
    expectHolds(cond('seats', 'eq', ['5']), { seats: '5.0' }, false);
  });

  it('lets "true" / "false" equal booleans, both ways', () => {
    expectHolds(cond('beta', 'eq', [true]), { beta: 'true' }, true);
    expectHolds(cond('beta', 'eq', [false]), { beta: 'true' }, false);
    expectHolds(cond('beta', 'eq', ['true']), { beta: true }, true);
    expectHolds(cond('beta', 'eq', ['false']), { beta: true }, false);
    expectHolds(cond('beta', 'eq', ['false']), { beta: false }, true);
  });

  it('never equates values of unrelated types', () => {
    expectHolds(cond('beta', 'eq', [1]), { beta: true }, false);
    expectHolds(cond('x', 'eq', ['[object Object]']), { x: {} }, false);
    expectHolds(cond('x', 'eq', ['a']), { x: ['a'] }, false);
  });

  it('treats neq as not(eq) and not_in as not(in)', () => {
    expectHolds(cond('country', 'neq', ['BR']), { country: 'US' }, true);
    expectHolds(cond('country', 'neq', ['BR']), { country: 'BR' }, false);
    expectHolds(cond('country', 'not_in', ['BR', 'US']), { country: 'DE' }, true);
    expectHolds(cond('country', 'not_in', ['BR', 'US']), { country: 'BR' }, false);
  });

  it('is false on a missing attribute, so neq / not_in / negated eq hold on one', () => {
    expectHolds(cond('country', 'eq', ['BR']), {}, false);
    expectHolds(cond('country', 'in', ['BR']), { country: null }, false);
    expect(holds(cond('country', 'neq', ['BR']), {})).toBe(true);
    expect(holds(cond('country', 'not_in', ['BR']), {})).toBe(true);
    expect(holds(cond('country', 'eq', ['BR'], true), {})).toBe(true);
  });

  it('handles many values through a set', () => {
    const many = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    expectHolds(cond('targetingKey', 'in', many), { targetingKey: 'user-999' }, true);
    expectHolds(cond('targetingKey', 'in', many), { targetingKey: 'user-1000' }, false);
  });
});

describe('contains / starts_with / ends_with', () => {
  it('work on strings, any value matching', () => {
    expectHolds(cond('email', 'ends_with', ['@example.com', '@example.org']), { email: 'ana@example.org' }, true);
    expectHolds(cond('email', 'ends_with', ['@example.com']), { email: 'ana@example.com.br' }, false);
    expectHolds(cond('email', 'starts_with', ['ana']), { email: 'ana@example.com' }, true);
    expectHolds(cond('email', 'starts_with', ['bob']), { email: 'ana@example.com' }, false);
    expectHolds(cond('email', 'contains', ['@exa']), { email: 'ana@example.com' }, true);
    expectHolds(cond('email', 'contains', ['xyz']), { email: 'ana@example.com' }, false);
  });

  it('convert a number attribute with String()', () => {
    expectHolds(cond('zip', 'starts_with', ['90']), { zip: 90210 }, true);
    expectHolds(cond('zip', 'contains', ['21']), { zip: 90210 }, true);
    expectHolds(cond('price', 'ends_with', ['.5']), { price: 2.5 }, true);
  });

  it('are false for booleans, objects and missing attributes', () => {
    expectHolds(cond('flag', 'contains', ['tru']), { flag: true }, false);
    expectHolds(cond('obj', 'contains', ['a']), { obj: { a: 1 } }, false);
    expectHolds(cond('email', 'ends_with', ['.com']), {}, false);
  });
});

describe('matches', () => {
  it('searches the string with an RE2 pattern (unanchored unless the pattern anchors)', () => {
    expectHolds(cond('email', 'matches', ['@(example|test)\\.com$']), { email: 'ana@test.com' }, true);
    expectHolds(cond('email', 'matches', ['^ana']), { email: 'bob.ana@test.com' }, false);
    expectHolds(cond('email', 'matches', ['ana']), { email: 'bob.ana@test.com' }, true);
    expectHolds(cond('version', 'matches', ['^\\d+$']), { version: 42 }, true);
  });

  it('is false for a pattern RE2 refuses (backreferences) instead of throwing', () => {
    expectHolds(cond('name', 'matches', ['(a)\\1']), { name: 'aa' }, false);
    expectHolds(cond('name', 'matches', ['(']), { name: '(' }, false);
  });

  it('answers a pathological pattern in linear time: (a+)+$ against 50,000 a and a !', () => {
    const input = `${'a'.repeat(50_000)}!`;
    const started = Date.now();
    expectHolds(cond('name', 'matches', ['(a+)+$']), { name: input }, false);
    expectHolds(cond('name', 'matches', ['^(a|aa)+$']), { name: input }, false);
    expectHolds(cond('name', 'matches', ['(a+)+!$']), { name: input }, true);
    // A backtracking engine would not finish in the lifetime of the test; RE2 takes milliseconds.
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('lt / lte / gt / gte', () => {
  it('compare numbers', () => {
    expectHolds(cond('age', 'gte', [18]), { age: 18 }, true);
    expectHolds(cond('age', 'gte', [18]), { age: 17.9 }, false);
    expectHolds(cond('age', 'gt', [18]), { age: 18 }, false);
    expectHolds(cond('age', 'lt', [18]), { age: 17 }, true);
    expectHolds(cond('age', 'lte', [18]), { age: 18 }, true);
    expectHolds(cond('age', 'lte', [18]), { age: 19 }, false);
  });

  it('convert numeric strings on either side', () => {
    expectHolds(cond('age', 'gte', [18]), { age: '21' }, true);
    expectHolds(cond('age', 'gte', ['18']), { age: 21 }, true);
    expectHolds(cond('age', 'lt', [1e3]), { age: '-5.5' }, true);
  });

  it('hold when any value does', () => {
    expectHolds(cond('age', 'gt', [65, 18]), { age: 30 }, true);
    expectHolds(cond('age', 'lt', [10, 20]), { age: 15 }, true);
  });

  it('are false for non-numeric attributes and values', () => {
    expectHolds(cond('age', 'gte', [18]), { age: 'old' }, false);
    expectHolds(cond('age', 'gte', [18]), { age: true }, false);
    expectHolds(cond('age', 'gte', [18]), { age: '' }, false);
    expectHolds(cond('age', 'gte', [18]), { age: NaN }, false);
    expectHolds(cond('age', 'gte', ['abc']), { age: 30 }, false);
    expectHolds(cond('age', 'gte', [18]), {}, false);
  });
});

describe('semver_eq / semver_lt / semver_gt', () => {
  it('compare semantic versions, pre-releases below releases', () => {
    expectHolds(cond('app', 'semver_gt', ['1.2.0']), { app: '1.10.0' }, true);
    expectHolds(cond('app', 'semver_gt', ['1.2.0']), { app: '1.2.0' }, false);
    expectHolds(cond('app', 'semver_lt', ['2.0.0']), { app: '2.0.0-rc.1' }, true);
    expectHolds(cond('app', 'semver_eq', ['1.2.3']), { app: '1.2.3+build.7' }, true);
    expectHolds(cond('app', 'semver_eq', ['1.2.3']), { app: '1.2.4' }, false);
  });

  it('allow a leading v on either side', () => {
    expectHolds(cond('app', 'semver_eq', ['v1.2.3']), { app: '1.2.3' }, true);
    expectHolds(cond('app', 'semver_eq', ['1.2.3']), { app: 'v1.2.3' }, true);
  });

  it('do not coerce partial or malformed versions: the condition is false', () => {
    expectHolds(cond('app', 'semver_gt', ['1.0.0']), { app: '1.2' }, false);
    expectHolds(cond('app', 'semver_gt', ['1.0.0']), { app: 'latest' }, false);
    expectHolds(cond('app', 'semver_gt', ['1.0.0']), { app: 2 }, false);
    expectHolds(cond('app', 'semver_gt', ['1.0.0']), { app: `1.${'9'.repeat(300)}.0` }, false);
    expectHolds(cond('app', 'semver_gt', ['not-a-version']), { app: '2.0.0' }, false);
    expectHolds(cond('app', 'semver_gt', ['1.0.0']), {}, false);
  });
});

describe('before / after', () => {
  it('compare ISO-8601 dates and date-times', () => {
    expectHolds(cond('signup', 'before', ['2025-01-01']), { signup: '2024-12-31T23:59:59Z' }, true);
    expectHolds(cond('signup', 'before', ['2025-01-01']), { signup: '2025-01-01' }, false);
    expectHolds(cond('signup', 'after', ['2025-01-01T00:00:00Z']), { signup: '2025-01-01T00:00:00.001Z' }, true);
    expectHolds(cond('signup', 'after', ['2025-01-01T00:00:00Z']), { signup: '2025-01-01T01:00:00+02:00' }, false);
  });

  it('take epoch milliseconds as the attribute', () => {
    expectHolds(cond('now', 'after', ['2025-01-01T00:00:00Z']), { now: Date.UTC(2025, 5, 1) }, true);
    expectHolds(cond('now', 'before', ['2025-01-01T00:00:00Z']), { now: Date.UTC(2025, 5, 1) }, false);
  });

  it('read a date-time without an offset as UTC', () => {
    expectHolds(cond('at', 'before', ['2025-01-01T10:00:00Z']), { at: '2025-01-01T09:59:59' }, true);
    expectHolds(cond('at', 'before', ['2025-01-01T10:00:00Z']), { at: '2025-01-01T10:00:00' }, false);
  });

  it('are false for malformed dates', () => {
    expectHolds(cond('at', 'before', ['2030-01-01']), { at: '2025-02-30' }, false);
    expectHolds(cond('at', 'before', ['2030-01-01']), { at: 'yesterday' }, false);
    expectHolds(cond('at', 'before', ['2030-01-01']), { at: 'March 7, 2025' }, false);
    expectHolds(cond('at', 'before', ['2030-01-01']), { at: true }, false);
    expectHolds(cond('at', 'before', ['2030-01-01']), {}, false);
    expectHolds(cond('at', 'before', ['not a date']), { at: '2025-01-01' }, false);
  });
});

describe('exists / not_exists', () => {
  it('exists holds when the attribute is neither undefined nor null', () => {
    expectHolds(cond('plan', 'exists'), { plan: 'pro' }, true);
    expectHolds(cond('plan', 'exists'), { plan: '' }, true);
    expectHolds(cond('plan', 'exists'), { plan: 0 }, true);
    expectHolds(cond('plan', 'exists'), { plan: false }, true);
    expectHolds(cond('plan', 'exists'), { plan: null }, false);
    expectHolds(cond('plan', 'exists'), {}, false);
  });

  it('not_exists is its complement', () => {
    expectHolds(cond('plan', 'not_exists'), {}, true);
    expectHolds(cond('plan', 'not_exists'), { plan: 'pro' }, false);
  });
});

describe('in_segment / not_in_segment', () => {
  const segments = new Map(
    [
      segment({ key: 'beta', included: ['ana'], excluded: ['eve'], conditions: [cond('plan', 'eq', ['pro'])] }),
      segment({ key: 'staff', included: ['bob'] }),
    ].map((s) => [s.key, compileSegment(s)]),
  );
  const inSegment = (keys: string[], context: EvaluationContext, negate?: boolean) =>
    holds(cond('targetingKey', 'in_segment', keys, negate), context, segments);

  it('holds when the context is in any listed segment', () => {
    expect(inSegment(['beta'], { targetingKey: 'ana' })).toBe(true);
    expect(inSegment(['beta'], { targetingKey: 'zoe', plan: 'pro' })).toBe(true);
    expect(inSegment(['beta', 'staff'], { targetingKey: 'bob' })).toBe(true);
    expect(inSegment(['beta'], { targetingKey: 'bob' })).toBe(false);
  });

  it('lets excluded win over included and conditions', () => {
    expect(inSegment(['beta'], { targetingKey: 'eve', plan: 'pro' })).toBe(false);
  });

  it('holds only the included keys of a segment without conditions', () => {
    expect(inSegment(['staff'], { targetingKey: 'bob' })).toBe(true);
    expect(inSegment(['staff'], { targetingKey: 'ana', plan: 'pro' })).toBe(false);
  });

  it('treats a segment that does not exist as one the context is not in', () => {
    expect(inSegment(['nope'], { targetingKey: 'ana' })).toBe(false);
    expect(holds(cond('targetingKey', 'not_in_segment', ['nope']), { targetingKey: 'ana' }, segments)).toBe(true);
  });

  it('not_in_segment holds when the context is in none', () => {
    const notIn = (context: EvaluationContext) => holds(cond('targetingKey', 'not_in_segment', ['beta', 'staff']), context, segments);
    expect(notIn({ targetingKey: 'zoe', plan: 'free' })).toBe(true);
    expect(notIn({ targetingKey: 'bob' })).toBe(false);
    expect(inSegment(['beta'], { targetingKey: 'ana' }, true)).toBe(false);
  });

  it('stops segments that reference each other in a cycle instead of recursing forever', () => {
    const cyclic = new Map(
      [
        segment({ key: 'a', conditions: [cond('targetingKey', 'in_segment', ['b'])] }),
        segment({ key: 'b', conditions: [cond('targetingKey', 'in_segment', ['a'])] }),
      ].map((s) => [s.key, compileSegment(s)]),
    );
    expect(holds(cond('targetingKey', 'in_segment', ['a']), { targetingKey: 'x' }, cyclic)).toBe(false);
  });
});

describe('attributes', () => {
  it('reads targetingKey like any attribute', () => {
    expectHolds(cond('targetingKey', 'eq', ['user-1']), { targetingKey: 'user-1' }, true);
  });

  it('reaches into nested objects with a dotted path', () => {
    expectHolds(cond('account.plan', 'eq', ['pro']), { account: { plan: 'pro' } }, true);
    expectHolds(cond('account.owner.country', 'eq', ['BR']), { account: { owner: { country: 'BR' } } }, true);
    expectHolds(cond('account.plan', 'eq', ['pro']), { account: 'pro' }, false);
    expectHolds(cond('account.plan', 'eq', ['pro']), { account: null }, false);
  });

  it('prefers an attribute whose literal name has the dots', () => {
    expectHolds(cond('account.plan', 'eq', ['pro']), { 'account.plan': 'pro', account: { plan: 'free' } }, true);
  });

  it('never reads inherited properties such as constructor or toString', () => {
    expectHolds(cond('constructor', 'exists'), {}, false);
    expectHolds(cond('toString', 'exists'), {}, false);
    expectHolds(cond('a.constructor', 'exists'), { a: {} }, false);
    expectHolds(cond('__proto__', 'exists'), {}, false);
    expectHolds(cond('constructor', 'eq', ['x']), { constructor: 'x' }, true);
  });
});

describe('negate', () => {
  it('inverts the operator, so a negated condition on a missing attribute holds', () => {
    for (const operator of ['eq', 'contains', 'matches', 'gt', 'semver_gt', 'before', 'exists'] as const) {
      const values =
        operator === 'exists'
          ? []
          : operator === 'semver_gt'
            ? ['1.0.0']
            : operator === 'before'
              ? ['2025-01-01']
              : operator === 'gt'
                ? [1]
                : ['a'];
      expect(holds(cond('missing', operator, values), {}), operator).toBe(false);
      expect(holds(cond('missing', operator, values, true), {}), `negated ${operator}`).toBe(true);
    }
  });

  it('turns neq back into eq', () => {
    expectHolds(cond('country', 'neq', ['BR'], true), { country: 'BR' }, true);
  });
});

describe('malformed input', () => {
  const contextValue = fc.oneof(
    fc.string(),
    fc.double(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 3 }),
    fc.constantFrom('1.2.3', 'v2.0.0', '2025-01-01', '2025-13-45T99:99Z', '5', 'true', '', 'NaN', '1e400'),
  );
  const conditionValue = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.double(),
    fc.boolean(),
    fc.constantFrom('1.2.3', '2025-01-01', '(a+)+$', '[', '5'),
  );

  it('never throws, whatever the operator, the values and the context hold', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...operators),
        fc.array(conditionValue, { maxLength: 4 }),
        contextValue,
        fc.boolean(),
        (operator, values, value, negate) => {
          const condition = { attribute: 'a', operator, values, negate };
          const compiled = compileCondition(condition);
          const result = conditionHolds(compiled, { a: value, targetingKey: value as string }, noSegments, 0);
          expect(typeof result).toBe('boolean');
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('compiles an unknown operator to a condition that never holds, negated or not', () => {
    const bogus = { attribute: 'a', operator: 'resembles', values: ['x'] } as unknown as Condition;
    expect(holds(bogus, { a: 'x' })).toBe(false);
    expect(holds({ ...bogus, negate: true }, { a: 'x' })).toBe(false);
  });
});
