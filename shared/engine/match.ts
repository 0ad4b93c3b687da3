import type { EvaluationContext } from '../contracts/evaluation-model.ts';
import { readAttribute } from './attributes.ts';
import { numericString, parseSemver, toEpochMillis, toNumber } from './coercion.ts';
import type { CompiledCondition } from './compile-condition.ts';
import type { CompiledSegment } from './compile-segment.ts';
import { Op } from './operators.ts';

/**
 * The hot path of targeting: whether a condition, a segment, a rule's conditions hold for a context. Plain loops
 * over precompiled data; nothing here allocates (a semver attribute is parsed through a cache), nothing throws.
 */

/** How deep segment references (a segment whose condition is `in_segment` another) and prerequisites may nest. */
export const maxDepth = 10;

export type SegmentLookup = ReadonlyMap<string, CompiledSegment>;

function equalsAny(c: CompiledCondition, value: unknown): boolean {
  if (typeof value === 'string') {
    if (c.strings !== null && c.strings.has(value)) return true;
    if (c.numbers !== null) {
      const n = numericString(value);
      if (!Number.isNaN(n) && c.numbers.has(n)) return true;
    }
    if (value === 'true') return c.stringTrue;
    if (value === 'false') return c.stringFalse;
    return false;
  }
  if (typeof value === 'number') return c.anyNumbers !== null && c.anyNumbers.has(value);
  if (typeof value === 'boolean') return value ? c.matchTrue : c.matchFalse;
  return false;
}

/** Strings as they are, numbers through String(); anything else is not text. */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** The operator's own answer for an attribute value, before `negate` and complements are applied. */
export function operatorHolds(
  c: CompiledCondition,
  value: unknown,
  context: EvaluationContext,
  segments: SegmentLookup,
  depth: number,
): boolean {
  switch (c.op) {
    case Op.equals:
      return equalsAny(c, value);
    case Op.contains: {
      const text = asText(value);
      if (text === undefined) return false;
      for (const t of c.texts) if (text.includes(t)) return true;
      return false;
    }
    case Op.startsWith: {
      const text = asText(value);
      if (text === undefined) return false;
      for (const t of c.texts) if (text.startsWith(t)) return true;
      return false;
    }
    case Op.endsWith: {
      const text = asText(value);
      if (text === undefined) return false;
      for (const t of c.texts) if (text.endsWith(t)) return true;
      return false;
    }
    case Op.matches: {
      const text = asText(value);
      if (text === undefined) return false;
      for (const p of c.patterns) if (p.test(text)) return true;
      return false;
    }
    case Op.lt:
      return toNumber(value) < c.bound;
    case Op.lte:
      return toNumber(value) <= c.bound;
    case Op.gt:
      return toNumber(value) > c.bound;
    case Op.gte:
      return toNumber(value) >= c.bound;
    case Op.semverEq:
    case Op.semverLt:
    case Op.semverGt: {
      if (typeof value !== 'string') return false;
      const version = parseSemver(value);
      if (version === null) return false;
      const want = c.op === Op.semverEq ? 0 : c.op === Op.semverLt ? -1 : 1;
      for (const v of c.versions) if (version.compare(v) === want) return true;
      return false;
    }
    case Op.before:
      return toEpochMillis(value) < c.bound;
    case Op.after:
      return toEpochMillis(value) > c.bound;
    case Op.exists:
      return value !== undefined && value !== null;
    case Op.inSegment: {
      if (depth > maxDepth) return false;
      for (const key of c.segmentKeys) {
        const segment = segments.get(key);
        if (segment !== undefined && segmentContains(segment, context, segments, depth + 1)) return true;
      }
      return false;
    }
    default:
      return false;
  }
}

/** Whether the condition holds: the operator's answer, inverted for complements and `negate`. */
export function conditionHolds(c: CompiledCondition, context: EvaluationContext, segments: SegmentLookup, depth: number): boolean {
  if (c.op === Op.invalid) return false;
  const value = c.op === Op.inSegment ? undefined : readAttribute(c.attribute, context);
  return operatorHolds(c, value, context, segments, depth) !== c.invert;
}

/** The targeting key as segment lists hold it: a string, or a number written out; otherwise none. */
export function targetingKeyOf(context: EvaluationContext): string | undefined {
  const key: unknown = context.targetingKey;
  if (typeof key === 'string') return key;
  if (typeof key === 'number' && Number.isFinite(key)) return String(key);
  return undefined;
}

/** Excluded keys are never in; included keys are; otherwise all conditions must hold (none → not in). */
export function segmentContains(segment: CompiledSegment, context: EvaluationContext, segments: SegmentLookup, depth: number): boolean {
  if (segment.excluded.size > 0 || segment.included.size > 0) {
    const key = targetingKeyOf(context);
    if (key !== undefined) {
      if (segment.excluded.has(key)) return false;
      if (segment.included.has(key)) return true;
    }
  }
  const conditions = segment.conditions;
  if (conditions.length === 0) return false;
  for (const c of conditions) if (!conditionHolds(c, context, segments, depth)) return false;
  return true;
}

/** A rule applies when all its conditions hold and every referenced segment contains the context. */
export function ruleApplies(
  conditions: readonly CompiledCondition[],
  segmentKeys: readonly string[],
  context: EvaluationContext,
  segments: SegmentLookup,
): boolean {
  for (const c of conditions) if (!conditionHolds(c, context, segments, 0)) return false;
  for (const key of segmentKeys) {
    const segment = segments.get(key);
    if (segment === undefined || !segmentContains(segment, context, segments, 1)) return false;
  }
  return true;
}
