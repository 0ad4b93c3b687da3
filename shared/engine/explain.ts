import type { EvaluationContext, EvaluationResult } from '../contracts/evaluation-model.ts';
import type { Operator } from '../contracts/targeting-model.ts';
import { readAttribute } from './attributes.ts';
import type { CompiledEnvironment } from './compile-flag.ts';
import { contextOf, evaluateCompiled, evaluateFlag } from './evaluate.ts';
import { operatorHolds, segmentContains } from './match.ts';
import { Op } from './operators.ts';

/**
 * For `POST /targeting/match`: the answer evaluateFlag gives (the very same call), and beside it what each
 * prerequisite served and, for every rule in priority order, whether each condition and segment held for the
 * context. Every rule is explained, also those after the one that decided and also when the flag is disabled:
 * `result` says what was served and why, `rules` what would hold. Slower than evaluateFlag; never used on the hot path.
 */

export interface ConditionExplanation {
  attribute: string;
  operator: Operator;
  negate: boolean;
  held: boolean;
  /** The attribute's value in the context (undefined when it has none). */
  actual: unknown;
}

export interface SegmentExplanation {
  key: string;
  /** The segment exists and contains the context. */
  held: boolean;
}

export interface RuleExplanation {
  ruleId: string;
  priority: number;
  /** All conditions held and all segments contain the context. */
  matched: boolean;
  conditions: ConditionExplanation[];
  segments: SegmentExplanation[];
}

export interface PrerequisiteExplanation {
  flagKey: string;
  /** The variant the prerequisite must serve. */
  variant: string;
  /** What it served (absent when it does not exist or answered an error). */
  served?: string;
  met: boolean;
}

export interface FlagExplanation {
  result: EvaluationResult;
  prerequisites: PrerequisiteExplanation[];
  rules: RuleExplanation[];
}

export function explainFlag(env: CompiledEnvironment, flagKey: string, context: EvaluationContext): FlagExplanation {
  const result = evaluateFlag(env, flagKey, context);
  const flag = env.flags.get(flagKey);
  const readable = contextOf(context);
  if (flag === undefined || readable === undefined) return { result, prerequisites: [], rules: [] };
  const segments = env.segments;

  const prerequisites = flag.prerequisites.map((p): PrerequisiteExplanation => {
    const parent = env.flags.get(p.flagKey);
    const served = parent === undefined ? undefined : evaluateCompiled(env, parent, readable, 1).variant;
    return served === undefined
      ? { flagKey: p.flagKey, variant: p.variant, met: false }
      : { flagKey: p.flagKey, variant: p.variant, served, met: served === p.variant };
  });

  const rules = flag.rules.map((rule): RuleExplanation => {
    const conditions = rule.conditions.map((c): ConditionExplanation => {
      const actual = readAttribute(c.attribute, readable);
      const held = c.op === Op.invalid ? false : operatorHolds(c, actual, readable, segments, 0) !== c.invert;
      return { attribute: c.source.attribute, operator: c.source.operator, negate: c.source.negate === true, held, actual };
    });
    const segmentResults = rule.segmentKeys.map((key): SegmentExplanation => {
      const segment = segments.get(key);
      return { key, held: segment !== undefined && segmentContains(segment, readable, segments, 1) };
    });
    const matched = conditions.every((c) => c.held) && segmentResults.every((s) => s.held);
    return { ruleId: rule.id, priority: rule.priority, matched, conditions, segments: segmentResults };
  });

  return { result, prerequisites, rules };
}
