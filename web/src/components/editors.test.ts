import { describe, expect, it } from 'vitest';
import { ApiError, describeError, fieldLabel } from '../api/client.ts';
import type { Operator } from '../api/types.ts';
import { parseContext } from '../pages/Playground.tsx';
import { allOperators, checkCondition, conditionDraftOf, operatorGroups, type ConditionDraft } from './Conditions.tsx';
import { leafChanges } from './Diff.tsx';
import { checkServe, serveDraftOf } from './ServeEditor.tsx';
import { parseValue, valueToText } from './values.tsx';

const variants = [
  { key: 'on', value: true },
  { key: 'off', value: false },
];

describe('variant value editors', () => {
  it('refuse a value that is not of the flag type before anything is sent', () => {
    expect(parseValue('number', '12abc')).toEqual({ ok: false, error: '"12abc" is not a number (like 10, -3 or 2.5)' });
    expect(parseValue('number', '0x10').ok).toBe(false);
    expect(parseValue('number', 'Infinity').ok).toBe(false);
    expect(parseValue('number', '')).toMatchObject({ ok: false });
    expect(parseValue('boolean', 'yes')).toMatchObject({ ok: false });
    expect(parseValue('json', '{"a": 1,}')).toMatchObject({ ok: false });
    expect(parseValue('json', '   ')).toMatchObject({ ok: false });
    for (const notAnObject of ['null', '[1, 2]', '"text"', '42', 'true']) {
      const parsed = parseValue('json', notAnObject);
      expect(parsed.ok ? 'accepted' : parsed.error, notAnObject).toContain('is a JSON object');
    }
    expect(parseValue('string', 'x'.repeat(10_001))).toMatchObject({ ok: false });
  });

  it('read a value of the flag type as that type', () => {
    expect(parseValue('number', ' -2.5 ')).toEqual({ ok: true, value: -2.5 });
    expect(parseValue('number', '1e3')).toEqual({ ok: true, value: 1000 });
    expect(parseValue('boolean', 'false')).toEqual({ ok: true, value: false });
    expect(parseValue('string', '')).toEqual({ ok: true, value: '' });
    expect(parseValue('json', '{"rps": 50}')).toEqual({ ok: true, value: { rps: 50 } });
  });

  it('show a stored value as the text its editor starts from, and read it back unchanged', () => {
    for (const [type, value] of [
      ['number', 7.25],
      ['boolean', true],
      ['string', 'blue'],
      ['json', { a: [1, 2] }],
    ] as const) {
      expect(parseValue(type, valueToText(type, value))).toEqual({ ok: true, value });
    }
  });
});

describe('the serve editor', () => {
  it('accepts a split only when its weights total exactly 100, three decimals at most', () => {
    const draft = serveDraftOf(
      {
        rollout: [
          { variant: 'on', weight: 50 },
          { variant: 'off', weight: 50 },
        ],
      },
      variants,
    );
    expect(checkServe(draft)).toMatchObject({
      serve: {
        rollout: [
          { variant: 'on', weight: 50 },
          { variant: 'off', weight: 50 },
        ],
      },
      total: 100,
    });
    expect(checkServe({ ...draft, weights: { on: '50', off: '40' } })).toMatchObject({
      total: 90,
      errors: ['The weights must total 100% (they total 90%)'],
    });
    expect(checkServe({ ...draft, weights: { on: '33.3333', off: '66.6667' } }).errors[0]).toContain('three decimals');
    expect(checkServe({ ...draft, weights: { on: '33.333', off: '66.667' } }).serve).toBeDefined();
    expect(checkServe({ ...draft, weights: { on: '-5', off: '105' } }).serve).toBeUndefined();
    expect(checkServe({ ...draft, bucketBy: 'account id' }).errors[0]).toContain('bucketing attribute');
    expect(checkServe({ ...draft, bucketBy: 'account.id' }).serve).toMatchObject({ bucketBy: 'account.id' });
  });

  it('keeps the order of an existing split (users keep their bucket) and appends new variants at the end', () => {
    const draft = serveDraftOf(
      {
        rollout: [
          { variant: 'off', weight: 70 },
          { variant: 'on', weight: 30 },
        ],
      },
      [...variants, { key: 'beta', value: true }],
    );
    expect(draft.order).toEqual(['off', 'on', 'beta']);
    expect(checkServe(draft).serve?.rollout?.map((s) => s.variant)).toEqual(['off', 'on', 'beta']);
  });

  it('starts a new split evenly and serves one variant when asked to', () => {
    const draft = serveDraftOf(undefined, [...variants, { key: 'third', value: false }]);
    expect(draft.weights).toEqual({ on: '33.334', off: '33.333', third: '33.333' });
    expect(checkServe({ ...draft, mode: 'rollout' }).total).toBe(100);
    expect(checkServe(draft).serve).toEqual({ variant: 'on' });
  });
});

describe('the condition editor', () => {
  const draft = (operator: Operator, valuesText: string, attribute = 'attr'): ConditionDraft => ({
    ...conditionDraftOf(),
    attribute,
    operator,
    valuesText,
  });

  it('offers every operator of docs/targeting.md', () => {
    expect(allOperators).toHaveLength(21);
    expect(new Set(operatorGroups.flatMap((g) => g.operators))).toEqual(new Set(allOperators));
  });

  it('runs the write-time checks of each operator', () => {
    expect(checkCondition(draft('gte', '18')).condition).toEqual({ attribute: 'attr', operator: 'gte', values: [18] });
    expect(checkCondition(draft('gte', 'eighteen')).valuesError).toContain('Not a number');
    expect(checkCondition(draft('semver_gt', 'v2.3.0')).condition?.values).toEqual(['v2.3.0']);
    expect(checkCondition(draft('semver_gt', '1.2')).valuesError).toContain('semantic version');
    expect(checkCondition(draft('after', '2025-03-01T10:00Z')).condition).toBeDefined();
    expect(checkCondition(draft('after', '2025-02-30')).valuesError).toContain('ISO-8601');
    expect(checkCondition(draft('before', 'March 1, 2025')).valuesError).toContain('ISO-8601');
    expect(checkCondition(draft('matches', 'a'.repeat(501))).valuesError).toContain('500');
    expect(checkCondition(draft('exists', 'ignored')).condition).toEqual({ attribute: 'attr', operator: 'exists', values: [] });
    expect(checkCondition(draft('in', '')).valuesError).toContain('at least one value');
    expect(checkCondition(draft('in', 'BR\n\n US ')).condition?.values).toEqual(['BR', 'US']);
    expect(checkCondition(draft('eq', 'x', 'bad name')).attributeError).toBeDefined();
    expect(checkCondition(draft('eq', 'x', 'account.plan')).condition).toBeDefined();
    expect(checkCondition({ ...draft('eq', 'pro'), negate: true }).condition).toMatchObject({ negate: true });
  });

  it('checks segment references and reads them without an attribute', () => {
    expect(checkCondition({ ...conditionDraftOf(), operator: 'in_segment', segmentKeys: [] }).valuesError).toContain('segment');
    expect(checkCondition({ ...conditionDraftOf(), operator: 'in_segment', segmentKeys: ['beta'] }).condition).toEqual({
      attribute: 'targetingKey',
      operator: 'in_segment',
      values: ['beta'],
    });
  });

  it('keeps the type of values it loaded when their text is unchanged', () => {
    const loaded = conditionDraftOf({ attribute: 'tier', operator: 'in', values: [5, true, 'gold'] });
    expect(checkCondition(loaded).condition?.values).toEqual([5, true, 'gold']);
    expect(checkCondition({ ...loaded, valuesText: '5\nsilver' }).condition?.values).toEqual([5, 'silver']);
  });
});

describe('the history diff', () => {
  it('breaks a change down to the fields that differ', () => {
    const rows = leafChanges([
      {
        path: '/environments/development/defaultServe/rollout',
        before: [
          { variant: 'a', weight: 50 },
          { variant: 'b', weight: 50 },
        ],
        after: [
          { variant: 'a', weight: 30 },
          { variant: 'b', weight: 70 },
        ],
      },
    ]);
    expect(rows).toEqual([
      { path: '/environments/development/defaultServe/rollout/0/weight', before: 50, after: 30 },
      { path: '/environments/development/defaultServe/rollout/1/weight', before: 50, after: 70 },
    ]);
    expect(leafChanges([{ path: '/', before: { name: 'x', version: 1 }, after: { name: 'y', version: 2 } }])).toEqual([
      { path: '/name', before: 'x', after: 'y' },
    ]);
    expect(leafChanges([{ path: '/tags', before: ['a'], after: ['a', 'b'] }])).toEqual([
      { path: '/tags', before: ['a'], after: ['a', 'b'] },
    ]);
  });
});

describe('the playground context', () => {
  it('takes a JSON object with a string targetingKey and says what is wrong otherwise', () => {
    expect(parseContext('{"targetingKey": "u1", "age": 3}')).toEqual({ context: { targetingKey: 'u1', age: 3 } });
    expect(parseContext('{"targetingKey": 42}').error).toBe('targetingKey must be a string');
    expect(parseContext('[1]').error).toContain('must be a JSON object');
    expect(parseContext('{').error).toContain('Not valid JSON');
  });
});

describe('API errors in words', () => {
  it('uses the detail and names the fields', () => {
    expect(
      describeError(new ApiError(400, 'VALIDATION_FAILED', 'Invalid body: /variants/0/value must be a boolean for a boolean flag')),
    ).toBe('Invalid body: /variants/0/value must be a boolean for a boolean flag.');
    expect(describeError(new ApiError(401, 'INVALID_CREDENTIALS', 'The email or password is not correct'))).toBe(
      'That email and password do not match an account.',
    );
    expect(describeError(new ApiError(403, 'FORBIDDEN', 'This needs the editor role; you are viewer'))).toBe(
      'Your role does not allow this (this needs the editor role; you are viewer).',
    );
    expect(describeError(new ApiError(412, 'PRECONDITION_FAILED', 'The flag is at version 3, not "2"'))).toContain(
      'Someone else changed this',
    );
    expect(describeError(new ApiError(500, 'INTERNAL', 'An unexpected error occurred', [], 'req-1'))).toContain('quote request id req-1');
    expect(fieldLabel('body/variants/1/value')).toBe('variants › #2 › value');
  });
});
