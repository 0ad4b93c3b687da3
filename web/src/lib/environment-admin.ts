import type { EnvironmentSettings } from '../api/endpoints.ts';
import type { Environment, EnvironmentState, Rule } from '../api/types.ts';
import { describeServe } from './format.ts';

/**
 * The Environments page's logic and the flag page's "Copy from…": the order after a move, the fields an edit
 * changes, and what a copy of one environment onto another replaces, in words.
 */

/** The keys with `key` moved `by` places (−1: up, +1: down); unchanged at either end. */
export function moveKey(keys: readonly string[], key: string, by: -1 | 1): string[] {
  const from = keys.indexOf(key);
  const to = from + by;
  if (from === -1 || to < 0 || to >= keys.length) return [...keys];
  const next = [...keys];
  next.splice(from, 1);
  next.splice(to, 0, key);
  return next;
}

/** What an edit of an environment sends: only the fields that differ (empty: nothing to save). */
export function settingsPatch(current: Environment, draft: Required<EnvironmentSettings>): EnvironmentSettings {
  const patch: EnvironmentSettings = {};
  if (draft.name.trim() !== current.name) patch.name = draft.name.trim();
  if (draft.protected !== current.protected) patch.protected = draft.protected;
  if (draft.requiredApprovals !== current.requiredApprovals) patch.requiredApprovals = draft.requiredApprovals;
  return patch;
}

/** "Protected · 2 approvals" / "Not protected": an environment's standing in a few words. */
export function describeProtection(environment: Pick<Environment, 'protected' | 'requiredApprovals'>): string {
  if (!environment.protected) return 'Not protected';
  return `Protected · ${environment.requiredApprovals} approval${environment.requiredApprovals === 1 ? '' : 's'}`;
}

/** One line of what a copy changes: the field, what the target has, what it will have. */
export interface CopyLine {
  field: string;
  now: string;
  after: string;
  changes: boolean;
}

/** What copying `source` (state and rules) onto `target` replaces, field by field, rules last. */
export function copyLines(
  source: { state: EnvironmentState; rules: Rule[] },
  target: { state: EnvironmentState; rules: Rule[] },
): CopyLine[] {
  const prerequisites = (state: EnvironmentState) =>
    state.prerequisites.length === 0 ? 'none' : state.prerequisites.map((p) => `${p.flagKey} serves ${p.variant}`).join(', ');
  const rules = (list: Rule[]) =>
    list.length === 0
      ? 'no rules'
      : `${list.length} rule${list.length === 1 ? '' : 's'}: ${list.map((r, i) => r.name || `rule ${i + 1}`).join(', ')}`;
  const line = (field: string, now: string, after: string): CopyLine => ({ field, now, after, changes: now !== after });
  const sameRules = JSON.stringify(source.rules.map(ruleContent)) === JSON.stringify(target.rules.map(ruleContent));
  return [
    line('On', target.state.enabled ? 'on' : 'off', source.state.enabled ? 'on' : 'off'),
    line('Off variant', target.state.offVariant, source.state.offVariant),
    line('Default serve', describeServe(target.state.defaultServe), describeServe(source.state.defaultServe)),
    line('Prerequisites', prerequisites(target.state), prerequisites(source.state)),
    // Copies replace the rules even when they are alike (new ids): "changes" says whether what they do changes.
    { field: 'Targeting rules', now: rules(target.rules), after: `${rules(source.rules)} (copied)`, changes: !sameRules },
  ];
}

/** What a rule does, without what names it (id, environment, times): copies of a rule have the same content. */
function ruleContent(rule: Rule) {
  return { name: rule.name, conditions: rule.conditions, segments: rule.segments, serve: rule.serve };
}
