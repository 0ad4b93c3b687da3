import { describe, expect, it } from 'vitest';
import type { Condition } from '../contracts/targeting-model.ts';
import { conditionProblems } from './index.ts';
import { cond } from './test-fixtures.ts';

const paths = (condition: Condition) => conditionProblems(condition, 'body/conditions/0').map((p) => p.path);

describe('conditionProblems', () => {
  it('accepts well-formed conditions of every kind', () => {
    const good: Condition[] = [
      cond('country', 'in', ['BR', 'US']),
      cond('seats', 'eq', [5]),
      cond('beta', 'neq', [true]),
      cond('email', 'ends_with', ['@example.com']),
      cond('email', 'matches', ['^[a-z]+@example\\.com$']),
      cond('age', 'gte', [18]),
      cond('app', 'semver_gt', ['1.2.0']),
      cond('app', 'semver_eq', ['v2.0.0-rc.1']),
      cond('signup', 'before', ['2025-01-01']),
      cond('signup', 'after', ['2025-01-01T10:00:00+02:00']),
      cond('plan', 'exists'),
      cond('plan', 'not_exists', [], true),
      cond('targetingKey', 'in_segment', ['beta-users']),
      cond('account.tier', 'eq', ['gold']),
    ];
    for (const condition of good) expect(conditionProblems(condition, 'c'), JSON.stringify(condition)).toEqual([]);
  });

  it('wants numbers for lt / lte / gt / gte', () => {
    expect(conditionProblems(cond('age', 'gt', ['18', 20]), 'body/conditions/0')).toEqual([
      { path: 'body/conditions/0/values/0', message: expect.stringContaining('number') as unknown },
    ]);
    expect(paths(cond('age', 'lte', [true]))).toEqual(['body/conditions/0/values/0']);
  });

  it('wants valid semantic versions for semver_*', () => {
    expect(paths(cond('app', 'semver_lt', ['1.2', '1.2.0', 'latest']))).toEqual([
      'body/conditions/0/values/0',
      'body/conditions/0/values/2',
    ]);
    expect(paths(cond('app', 'semver_eq', [1]))).toEqual(['body/conditions/0/values/0']);
  });

  it('wants valid ISO-8601 dates for before / after', () => {
    expect(paths(cond('at', 'before', ['2025-02-30', 'tomorrow', '2025-02-28', 1735689600000]))).toEqual([
      'body/conditions/0/values/0',
      'body/conditions/0/values/1',
      'body/conditions/0/values/3',
    ]);
  });

  it('wants a regular expression RE2 accepts, at most 500 characters, for matches', () => {
    expect(paths(cond('name', 'matches', ['(a)\\1']))).toEqual(['body/conditions/0/values/0']);
    expect(paths(cond('name', 'matches', ['(']))).toEqual(['body/conditions/0/values/0']);
    expect(paths(cond('name', 'matches', ['a'.repeat(501)]))).toEqual(['body/conditions/0/values/0']);
    expect(paths(cond('name', 'matches', ['a'.repeat(500)]))).toEqual([]);
    expect(paths(cond('name', 'matches', ['(a+)+$']))).toEqual([]);
  });

  it('wants at least one value, except for exists / not_exists which take none', () => {
    expect(conditionProblems(cond('country', 'in', []), 'p')).toEqual([{ path: 'p/values', message: 'needs at least one value for in' }]);
    expect(paths(cond('plan', 'exists', ['x']))).toEqual(['body/conditions/0/values']);
    expect(paths(cond('plan', 'not_exists', ['x']))).toEqual(['body/conditions/0/values']);
  });

  it('wants segment keys for in_segment / not_in_segment', () => {
    expect(paths(cond('targetingKey', 'in_segment', ['Beta Users', 'ok']))).toEqual(['body/conditions/0/values/0']);
    expect(paths(cond('targetingKey', 'not_in_segment', [3]))).toEqual(['body/conditions/0/values/0']);
    expect(paths(cond('targetingKey', 'not_in_segment', []))).toEqual(['body/conditions/0/values']);
  });

  it('refuses an unknown operator, a malformed attribute and a non-boolean negate', () => {
    expect(paths({ attribute: 'a', operator: 'like', values: ['x'] } as unknown as Condition)).toEqual(['body/conditions/0/operator']);
    expect(paths(cond('9lives', 'eq', ['x']))).toEqual(['body/conditions/0/attribute']);
    expect(paths(cond('a..b', 'eq', ['x']))).toEqual(['body/conditions/0/attribute']);
    expect(paths({ attribute: 'a', operator: 'eq', values: ['x'], negate: 'yes' } as unknown as Condition)).toEqual([
      'body/conditions/0/negate',
    ]);
  });

  it('refuses values that are not strings, numbers or booleans', () => {
    expect(paths({ attribute: 'a', operator: 'in', values: [{}, null, 'ok'] } as unknown as Condition)).toEqual([
      'body/conditions/0/values/0',
      'body/conditions/0/values/1',
    ]);
    expect(paths({ attribute: 'a', operator: 'in', values: 'x' } as unknown as Condition)).toEqual(['body/conditions/0/values']);
  });
});
