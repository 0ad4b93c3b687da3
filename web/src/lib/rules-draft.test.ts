import { describe, expect, it } from 'vitest';
import type { ChangeRequest, Rule } from '../api/types.ts';
import {
  addToDraft,
  compareRules,
  describeDraft,
  describeRulesChange,
  draftChanges,
  draftOf,
  moveInDraft,
  removeFromDraft,
  replaceInDraft,
  ruleInWords,
  rulesMovedSince,
  rulesOfRequest,
  sameRules,
  specOf,
  specsOf,
} from './rules-draft.ts';

function rule(id: string, name: string, overrides: Partial<Rule> = {}): Rule {
  return {
    id,
    flagKey: 'checkout',
    environment: 'production',
    priority: 0,
    name,
    conditions: [{ attribute: 'country', operator: 'in', values: ['BR', 'US'] }],
    segments: [],
    serve: { variant: 'on' },
    createdAt: '2025-03-01T10:00:00.000Z',
    updatedAt: '2025-03-01T10:00:00.000Z',
    ...overrides,
  };
}

const brazil = rule('r-1', 'Brazil');
const staff = rule('r-2', 'Staff', {
  priority: 1,
  conditions: [{ attribute: 'email', operator: 'ends_with', values: ['@togglemaster.local'] }],
  segments: ['beta'],
});
const rest = rule('r-3', '', {
  priority: 2,
  conditions: [],
  serve: {
    rollout: [
      { variant: 'on', weight: 10 },
      { variant: 'off', weight: 90 },
    ],
  },
});
const vip = { name: 'VIP', conditions: [{ attribute: 'plan', operator: 'eq' as const, values: ['vip'] }], serve: { variant: 'on' } };

describe('a rule as a request carries it', () => {
  it('keeps name, conditions, segments and serve, spelled out — no id, no priority', () => {
    expect(specOf(staff)).toEqual({
      name: 'Staff',
      conditions: [{ attribute: 'email', operator: 'ends_with', values: ['@togglemaster.local'] }],
      segments: ['beta'],
      serve: { variant: 'on' },
    });
    expect(specOf(vip)).toEqual({ ...vip, segments: [] });
    expect(specsOf(draftOf([brazil, staff]))).toEqual([specOf(brazil), specOf(staff)]);
    expect(Object.keys(specsOf(draftOf([brazil]))[0]!)).toEqual(['name', 'conditions', 'segments', 'serve']);
  });

  it('compares rules by what they match and serve, whatever order a store spelled their keys in', () => {
    const respelled = {
      serve: { variant: 'on' },
      segments: [],
      name: 'Brazil',
      conditions: [{ values: ['BR', 'US'], operator: 'in' as const, attribute: 'country' }],
    };
    expect(sameRules([brazil], [respelled])).toBe(true);
    expect(sameRules([brazil, staff], [staff, brazil])).toBe(false);
    expect(sameRules([brazil], [{ ...respelled, serve: { variant: 'off' } }])).toBe(false);
    expect(sameRules([{ ...vip, name: undefined }], [{ ...vip, name: '', segments: [] }])).toBe(true);
  });
});

describe('the draft of a protected environment’s rules', () => {
  const rules = [brazil, staff, rest];

  it('starts as the rules are, and changes nothing until edited', () => {
    const draft = draftOf(rules);
    expect(draft.map((r) => r.key)).toEqual(['r-1', 'r-2', 'r-3']);
    expect(draftChanges(draft, rules)).toEqual({ marks: new Map(), deleted: [], reordered: false, changed: false });
    expect(describeDraft(draft, rules)).toBeUndefined();
  });

  it('adds a rule last with a key of its own, edits one in its place, deletes and moves one', () => {
    let draft = addToDraft(draftOf(rules), vip);
    expect(draft.at(-1)).toEqual({ ...specOf(vip), key: 'new-4' });
    draft = addToDraft(removeFromDraft(draft, 'r-3'), vip);
    expect(draft.map((r) => r.key)).toEqual(['r-1', 'r-2', 'new-4', 'new-5']);
    draft = replaceInDraft(draft, 'r-2', { ...specOf(staff), serve: { variant: 'off' } });
    expect(draft[1]).toMatchObject({ key: 'r-2', ruleId: 'r-2', name: 'Staff', serve: { variant: 'off' } });
    expect(replaceInDraft(draft, 'new-4', { ...vip, name: 'VIPs' })[2]).toEqual({ ...specOf(vip), name: 'VIPs', key: 'new-4' });
    draft = moveInDraft(draft, 'r-2', 'r-1');
    expect(draft.map((r) => r.key)).toEqual(['r-2', 'r-1', 'new-4', 'new-5']);
    expect(moveInDraft(draft, 'new-5', 'r-2').map((r) => r.key)).toEqual(['new-5', 'r-2', 'r-1', 'new-4']);
    expect(moveInDraft(draft, 'gone', 'r-1')).toEqual(draft);
  });

  it('marks what the draft changes and says it in words', () => {
    const draft = moveInDraft(
      replaceInDraft(addToDraft(removeFromDraft(draftOf(rules), 'r-3'), vip), 'r-1', { ...specOf(brazil), name: 'Brazil only' }),
      'r-2',
      'r-1',
    );
    const changes = draftChanges(draft, rules);
    expect([...changes.marks]).toEqual([
      ['r-1', 'edited'],
      ['new-3', 'added'],
    ]);
    expect(changes.deleted.map((r) => r.id)).toEqual(['r-3']);
    expect(changes.reordered).toBe(true);
    expect(describeDraft(draft, rules)).toBe('1 added, 1 edited, 1 deleted, reordered');
    expect(describeDraft(moveInDraft(draftOf(rules), 'r-3', 'r-1'), rules)).toBe('reordered');
    expect(describeDraft(removeFromDraft(removeFromDraft(draftOf(rules), 'r-1'), 'r-2'), rules)).toBe('2 deleted');
  });

  it('changes nothing when an edit is undone by hand', () => {
    const draft = replaceInDraft(replaceInDraft(draftOf(rules), 'r-1', vip), 'r-1', brazil);
    expect(draftChanges(draft, rules).changed).toBe(false);
    expect(specsOf(draft)).toEqual(rules.map(specOf));
  });
});

describe('a request of rules', () => {
  it('compares the rules as they were with those proposed, rule by rule', () => {
    const comparison = compareRules(
      [brazil, staff, rest].map(specOf),
      [specOf(staff), { ...specOf(brazil), serve: { variant: 'off' } }, specOf(vip)].map(specOf),
    );
    expect(comparison.before.map((r) => r.mark)).toEqual(['changed', undefined, 'removed']);
    expect(comparison.after.map((r) => r.mark)).toEqual([undefined, 'changed', 'added']);
    expect(comparison).toMatchObject({ added: 1, changed: 1, removed: 1, reordered: true });
    // A rule renamed keeps its conditions; unnamed rules are matched by place.
    expect(compareRules([brazil], [{ ...specOf(brazil), name: 'Brazil and the US' }])).toMatchObject({ added: 0, changed: 1, removed: 0 });
    const unnamed = compareRules([rest], [{ ...specOf(rest), conditions: [{ attribute: 'plan', operator: 'exists', values: [] }] }]);
    expect(unnamed).toMatchObject({ added: 0, changed: 1, removed: 0, reordered: false });
    expect(compareRules([rest], [vip])).toMatchObject({ added: 1, changed: 0, removed: 1 });
  });

  it('is described by what it changes', () => {
    expect(describeRulesChange([brazil], [brazil, vip])).toBe('Change the rules: 1 added (2 rules)');
    expect(describeRulesChange([brazil, staff], [staff, brazil])).toBe('Change the rules: reordered (2 rules)');
    expect(describeRulesChange([brazil, staff], [])).toBe('Remove every rule (2)');
    expect(describeRulesChange([], [vip])).toBe('Change the rules: 1 added (1 rule)');
    expect(describeRulesChange([brazil], [specOf(brazil)])).toBe('Keep the rules as they are (1 rule)');
  });

  const request = (before: unknown, after: Rule[]): Pick<ChangeRequest, 'kind' | 'rules' | 'diff'> => ({
    kind: 'rules',
    rules: specsOf(draftOf(after)),
    diff: before === undefined ? [] : [{ path: '/', before, after: specsOf(draftOf(after)) }],
  });

  it('reads the rules as they were from its diff (none when the diff is empty: the same rules)', () => {
    expect(rulesOfRequest(request([specOf(brazil)], [brazil, staff]))).toEqual({
      before: [specOf(brazil)],
      after: [specOf(brazil), specOf(staff)],
    });
    expect(rulesOfRequest(request(null, [brazil]))).toEqual({ before: [], after: [specOf(brazil)] });
    expect(rulesOfRequest(request(undefined, [brazil]))).toEqual({ before: [specOf(brazil)], after: [specOf(brazil)] });
    expect(rulesOfRequest({ rules: null, diff: [] })).toEqual({ before: [], after: [] });
  });

  it('sees the rules moved since it was opened', () => {
    const opened = request([specOf(brazil)], [brazil, staff]);
    expect(rulesMovedSince(opened, [brazil])).toBe(false);
    expect(rulesMovedSince(opened, [brazil, rest])).toBe(true);
    expect(rulesMovedSince(opened, undefined)).toBe(false);
    expect(rulesMovedSince({ ...opened, kind: 'change' }, [rest])).toBe(false);
  });

  it('says a rule in words', () => {
    expect(ruleInWords(staff)).toEqual({
      name: 'Staff',
      when: 'email ends with @togglemaster.local and in segment beta',
      serve: 'on',
    });
    expect(ruleInWords(rest)).toEqual({ name: 'Unnamed rule', when: 'every context', serve: '10% on · 90% off' });
  });
});
