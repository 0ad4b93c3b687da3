import type { ChangeRequest, Condition, Rule, RuleSpec, Serve } from '../api/types.ts';
import { describeCondition, describeServe } from './format.ts';

/**
 * A flag's rules in a protected environment change only through a change request that carries them whole and in
 * order (kind `rules`). The targeting page collects edits — added, edited, deleted, moved — in a draft of the whole
 * list, then proposes it; a request of rules is shown as the rules as they were beside the rules proposed.
 */

/** A rule as a request carries it, every field spelled out (as the flags service compares them): no id, no priority. */
export interface RuleShape {
  name: string;
  conditions: Condition[];
  segments: string[];
  serve: Serve;
}

/** One rule of a draft. */
export interface DraftRule extends RuleShape {
  /** Stable within the draft (drag and drop, React keys): the id of the rule it started as, or `new-N` once added. */
  key: string;
  /** The rule it started as; undefined for one added in the draft. */
  ruleId?: string;
}

/** What a rule matches and serves, without its id and place; an absent name or segments spelled out as empty. */
export function specOf(rule: RuleSpec | Rule | RuleShape): RuleShape {
  return { name: rule.name ?? '', conditions: rule.conditions, segments: rule.segments ?? [], serve: rule.serve };
}

/** The body of a request of rules: the draft's rules in order, as RuleSpecs (name, conditions, segments, serve). */
export function specsOf(draft: readonly RuleShape[]): RuleSpec[] {
  return draft.map((rule) => {
    const { name, conditions, segments, serve } = specOf(rule);
    return { name, conditions, segments, serve };
  });
}

/** JSON with object keys sorted: two spellings of one rule (the store may order a document's keys its own way) compare equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null)
    return `{${Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** Whether two rules match and serve the same (ids, places and how they are spelled aside). */
export function sameRule(a: RuleSpec | Rule | RuleShape, b: RuleSpec | Rule | RuleShape): boolean {
  return canonical(specOf(a)) === canonical(specOf(b));
}

/** Whether two lists are the same rules in the same order. */
export function sameRules(a: readonly (RuleSpec | Rule | RuleShape)[], b: readonly (RuleSpec | Rule | RuleShape)[]): boolean {
  return a.length === b.length && a.every((rule, i) => sameRule(rule, b[i]!));
}

// ---------------------------------------------------------------------------------------------------------------
// The draft: the rules as they will be, edited one operation at a time.

/** A draft that starts as the rules are (in their order). */
export function draftOf(rules: readonly Rule[]): DraftRule[] {
  return rules.map((rule) => ({ ...specOf(rule), key: rule.id, ruleId: rule.id }));
}

/** `new-1`, `new-2`…: a key no rule of the draft has. */
function nextKey(draft: readonly DraftRule[]): string {
  const taken = new Set(draft.map((rule) => rule.key));
  let n = draft.length + 1;
  while (taken.has(`new-${n}`)) n += 1;
  return `new-${n}`;
}

/** The draft with a new rule last (where a rule written directly goes too). */
export function addToDraft(draft: readonly DraftRule[], rule: RuleSpec | RuleShape): DraftRule[] {
  return [...draft, { ...specOf(rule), key: nextKey(draft) }];
}

/** The draft with the rule of `key` replaced (it keeps its place and the rule it started as). */
export function replaceInDraft(draft: readonly DraftRule[], key: string, rule: RuleSpec | RuleShape): DraftRule[] {
  return draft.map((item) =>
    item.key === key ? { ...specOf(rule), key: item.key, ...(item.ruleId ? { ruleId: item.ruleId } : {}) } : item,
  );
}

/** The draft without the rule of `key`; the rules after it move up. */
export function removeFromDraft(draft: readonly DraftRule[], key: string): DraftRule[] {
  return draft.filter((item) => item.key !== key);
}

/** The draft with the rule of `from` moved to the place of the rule of `to` (as a drag and drop does); unchanged if either is missing. */
export function moveInDraft(draft: readonly DraftRule[], from: string, to: string): DraftRule[] {
  const source = draft.findIndex((item) => item.key === from);
  const target = draft.findIndex((item) => item.key === to);
  if (source < 0 || target < 0 || source === target) return [...draft];
  const next = [...draft];
  const [moved] = next.splice(source, 1);
  next.splice(target, 0, moved!);
  return next;
}

/** How a rule of the draft differs from the rules as they are: added in it, edited, or (no mark) as it is. */
export type DraftMark = 'added' | 'edited';

/** What the draft changes, rule by rule. */
export interface DraftChanges {
  /** The mark of each rule of the draft that differs, by key. */
  marks: Map<string, DraftMark>;
  /** The rules as they are that the draft deletes. */
  deleted: Rule[];
  /** Whether the rules kept are in another order. */
  reordered: boolean;
  /** Whether proposing the draft would change anything at all. */
  changed: boolean;
}

/** Compares the draft with the rules as they are (by the rule each of its rules started as). */
export function draftChanges(draft: readonly DraftRule[], rules: readonly Rule[]): DraftChanges {
  const byId = new Map(rules.map((rule) => [rule.id, rule]));
  const marks = new Map<string, DraftMark>();
  for (const item of draft) {
    const was = item.ruleId === undefined ? undefined : byId.get(item.ruleId);
    if (!was) marks.set(item.key, 'added');
    else if (!sameRule(was, item)) marks.set(item.key, 'edited');
  }
  const kept = new Set(draft.flatMap((item) => (item.ruleId !== undefined && byId.has(item.ruleId) ? [item.ruleId] : [])));
  const deleted = rules.filter((rule) => !kept.has(rule.id));
  const keptInDraft = draft.flatMap((item) => (item.ruleId !== undefined && byId.has(item.ruleId) ? [item.ruleId] : []));
  const keptAsTheyAre = rules.filter((rule) => kept.has(rule.id)).map((rule) => rule.id);
  const reordered = keptInDraft.some((id, i) => id !== keptAsTheyAre[i]);
  return { marks, deleted, reordered, changed: !sameRules(draft, rules) };
}

/** What the draft changes in words: "1 added, 1 edited, 1 deleted, reordered"; undefined when it changes nothing. */
export function describeDraft(draft: readonly DraftRule[], rules: readonly Rule[]): string | undefined {
  const changes = draftChanges(draft, rules);
  if (!changes.changed) return undefined;
  const count = (mark: DraftMark) => [...changes.marks.values()].filter((m) => m === mark).length;
  return changeWords({ added: count('added'), changed: count('edited'), removed: changes.deleted.length, reordered: changes.reordered }, [
    'added',
    'edited',
    'deleted',
  ]);
}

function changeWords(
  counts: { added: number; changed: number; removed: number; reordered: boolean },
  words: [added: string, changed: string, removed: string],
): string {
  const parts = [
    counts.added > 0 ? `${counts.added} ${words[0]}` : '',
    counts.changed > 0 ? `${counts.changed} ${words[1]}` : '',
    counts.removed > 0 ? `${counts.removed} ${words[2]}` : '',
    counts.reordered ? 'reordered' : '',
  ].filter(Boolean);
  // Rules edited back and forth into the same rules in another order: what changed is where they are.
  return parts.length > 0 ? parts.join(', ') : 'reordered';
}

/** "3 rules", "1 rule", "no rules". */
export function rulesPhrase(n: number): string {
  return n === 0 ? 'no rules' : `${n} rule${n === 1 ? '' : 's'}`;
}

// ---------------------------------------------------------------------------------------------------------------
// A request of rules: the rules as they were and as proposed.

/** How a rule of one list stands against the other: added or removed, changed (matched by name or by place), or as it was. */
export type RuleMark = 'added' | 'removed' | 'changed' | undefined;

/** Two lists of rules side by side: each rule with its mark, and whether the rules in both are in another order. */
export interface RulesComparison {
  before: { rule: RuleShape; mark: RuleMark }[];
  after: { rule: RuleShape; mark: RuleMark }[];
  added: number;
  changed: number;
  removed: number;
  reordered: boolean;
}

/**
 * Compares the rules as they were with the rules proposed (neither has ids): a rule found unchanged in both is kept;
 * of the others, one with the same (non-empty) name, or else the same conditions and segments, or else unnamed in
 * both at the same place, counts as changed; the rest as added or removed.
 */
export function compareRules(before: readonly (RuleSpec | RuleShape)[], after: readonly (RuleSpec | RuleShape)[]): RulesComparison {
  const was = before.map(specOf);
  const will = after.map(specOf);
  const pairOfAfter: (number | undefined)[] = will.map(() => undefined);
  const paired = new Set<number>();
  const changed = new Set<number>();
  const pair = (test: (a: number, b: number) => boolean, isChange: boolean) => {
    will.forEach((_, a) => {
      if (pairOfAfter[a] !== undefined) return;
      const b = was.findIndex((_, j) => !paired.has(j) && test(a, j));
      if (b < 0) return;
      pairOfAfter[a] = b;
      paired.add(b);
      if (isChange) changed.add(a);
    });
  };
  const matches = (rule: RuleShape) => canonical({ conditions: rule.conditions, segments: rule.segments });
  pair((a, b) => sameRule(will[a]!, was[b]!), false);
  pair((a, b) => will[a]!.name !== '' && will[a]!.name === was[b]!.name, true);
  pair((a, b) => matches(will[a]!) === matches(was[b]!), true);
  pair((a, b) => a === b && will[a]!.name === '' && was[b]!.name === '', true);
  const order = pairOfAfter.filter((b): b is number => b !== undefined);
  const changedBefore = new Set([...changed].map((a) => pairOfAfter[a]!));
  return {
    before: was.map((rule, b) => ({ rule, mark: !paired.has(b) ? 'removed' : changedBefore.has(b) ? 'changed' : undefined })),
    after: will.map((rule, a) => ({ rule, mark: pairOfAfter[a] === undefined ? 'added' : changed.has(a) ? 'changed' : undefined })),
    added: pairOfAfter.filter((b) => b === undefined).length,
    changed: changed.size,
    removed: was.length - paired.size,
    reordered: order.some((b, i) => i > 0 && b < order[i - 1]!),
  };
}

/** "Change the rules: 1 added, 1 removed (2 rules)", "Remove every rule (3)", "Keep the rules as they are (2 rules)". */
export function describeRulesChange(before: readonly (RuleSpec | RuleShape)[], after: readonly (RuleSpec | RuleShape)[]): string {
  if (after.length === 0 && before.length > 0) return `Remove every rule (${before.length})`;
  if (sameRules(before, after)) return `Keep the rules as they are (${rulesPhrase(after.length)})`;
  return `Change the rules: ${changeWords(compareRules(before, after), ['added', 'changed', 'removed'])} (${rulesPhrase(after.length)})`;
}

/**
 * A request's rules as they were when it was opened (its diff's `before`: the diff compares the whole list, and is
 * empty when the request proposed them as they were) and as proposed.
 */
export function rulesOfRequest(request: Pick<ChangeRequest, 'rules' | 'diff'>): { before: RuleShape[]; after: RuleShape[] } {
  const after = (request.rules ?? []).map(specOf);
  const whole = request.diff.find((change) => change.path === '/');
  const before = whole ? (Array.isArray(whole.before) ? (whole.before as RuleSpec[]).map(specOf) : []) : after;
  return { before, after };
}

/** Whether the rules moved since a request of rules was opened: applying it now would be refused as a conflict. */
export function rulesMovedSince(request: Pick<ChangeRequest, 'kind' | 'rules' | 'diff'>, current: readonly Rule[] | undefined): boolean {
  if (request.kind !== 'rules' || !current) return false;
  return !sameRules(rulesOfRequest(request).before, current);
}

/** A rule in words: "country is one of BR, US and in segment beta" (or "every context"), and what it serves. */
export function ruleInWords(rule: RuleSpec | RuleShape): { name: string; when: string; serve: string } {
  const { name, conditions, segments, serve } = specOf(rule);
  const parts = [...conditions.map(describeCondition), ...segments.map((s) => `in segment ${s}`)];
  return { name: name || 'Unnamed rule', when: parts.length > 0 ? parts.join(' and ') : 'every context', serve: describeServe(serve) };
}
