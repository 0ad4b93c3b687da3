import { RE2JS } from 're2js';
import type { SemVer } from 'semver';
import type { Condition } from '../contracts/targeting-model.ts';
import { compileAttribute, type AttributeAccessor } from './attributes.ts';
import { numericString, parseSemver, toEpochMillis, toNumber } from './coercion.ts';
import { Op, maxPatternLength, operatorInfo, type OpCode } from './operators.ts';

/**
 * A condition with its values parsed once: sets for equality, numbers, versions, epoch milliseconds and compiled
 * RE2 patterns. Every compiled condition has the same fields (unused ones are empty), so the matcher sees one
 * object shape. Values that cannot be read for the operator are dropped here (write-time validation refuses them);
 * compiling never throws.
 */
export interface CompiledCondition {
  readonly source: Condition;
  readonly attribute: AttributeAccessor;
  readonly op: OpCode;
  /** The operator is a complement (neq, not_in, not_exists, not_in_segment) XOR the condition is negated. */
  readonly invert: boolean;
  /** Equality: string values. */
  readonly strings: ReadonlySet<string> | null;
  /** Equality: number values, which a numeric string attribute may equal. */
  readonly numbers: ReadonlySet<number> | null;
  /** Equality: number values and numeric string values, which a number attribute may equal. */
  readonly anyNumbers: ReadonlySet<number> | null;
  /** Equality: whether a boolean attribute `true` / `false` equals a value (`true` or "true"). */
  readonly matchTrue: boolean;
  readonly matchFalse: boolean;
  /** Equality: whether a string attribute "true" / "false" equals a boolean value. */
  readonly stringTrue: boolean;
  readonly stringFalse: boolean;
  /** contains / starts_with / ends_with. */
  readonly texts: readonly string[];
  /** matches. */
  readonly patterns: readonly RE2JS[];
  /** lt lte gt gte before after: the one bound that decides "any value" (max for lt/lte/before, min for the others). */
  readonly bound: number;
  /** semver_*. */
  readonly versions: readonly SemVer[];
  /** in_segment / not_in_segment. */
  readonly segmentKeys: readonly string[];
}

const noStrings: readonly string[] = [];

/** Compiles a RE2 pattern, or answers undefined when RE2 refuses it or it is too long. */
export function compilePattern(pattern: string): RE2JS | undefined {
  if (pattern.length > maxPatternLength) return undefined;
  try {
    return RE2JS.compile(pattern);
  } catch {
    return undefined;
  }
}

export function compileCondition(condition: Condition): CompiledCondition {
  const info = operatorInfo(condition.operator);
  const values: readonly unknown[] = Array.isArray(condition.values) ? condition.values : [];
  const op: OpCode = info?.code ?? Op.invalid;
  const invert = info === undefined ? false : info.complement !== (condition.negate === true);

  let strings: Set<string> | null = null;
  let numbers: Set<number> | null = null;
  let anyNumbers: Set<number> | null = null;
  let matchTrue = false;
  let matchFalse = false;
  let stringTrue = false;
  let stringFalse = false;
  let texts = noStrings;
  let patterns: readonly RE2JS[] = [];
  let bound = NaN;
  let versions: readonly SemVer[] = [];
  let segmentKeys = noStrings;

  switch (op) {
    case Op.equals:
      for (const value of values) {
        if (typeof value === 'string') {
          (strings ??= new Set()).add(value);
          const n = numericString(value);
          if (!Number.isNaN(n)) (anyNumbers ??= new Set()).add(n);
          if (value === 'true') matchTrue = true;
          if (value === 'false') matchFalse = true;
        } else if (typeof value === 'number' && !Number.isNaN(value)) {
          (numbers ??= new Set()).add(value);
          (anyNumbers ??= new Set()).add(value);
        } else if (typeof value === 'boolean') {
          if (value) matchTrue = stringTrue = true;
          else matchFalse = stringFalse = true;
        }
      }
      break;
    case Op.contains:
    case Op.startsWith:
    case Op.endsWith:
      texts = values.filter((v) => typeof v === 'string' || typeof v === 'number').map((v) => String(v));
      break;
    case Op.matches:
      patterns = values.flatMap((v) => {
        const compiled = typeof v === 'string' ? compilePattern(v) : undefined;
        return compiled === undefined ? [] : [compiled];
      });
      break;
    case Op.lt:
    case Op.lte:
    case Op.before:
    case Op.gt:
    case Op.gte:
    case Op.after: {
      const read = op === Op.before || op === Op.after ? toEpochMillis : toNumber;
      const parsed = values.map(read).filter((n) => !Number.isNaN(n));
      const upper = op === Op.lt || op === Op.lte || op === Op.before;
      if (parsed.length > 0) bound = upper ? Math.max(...parsed) : Math.min(...parsed);
      break;
    }
    case Op.semverEq:
    case Op.semverLt:
    case Op.semverGt:
      versions = values.flatMap((v) => {
        const parsed = typeof v === 'string' ? parseSemver(v) : null;
        return parsed === null ? [] : [parsed];
      });
      break;
    case Op.inSegment:
      segmentKeys = values.filter((v): v is string => typeof v === 'string');
      break;
    default:
      break;
  }

  return {
    source: condition,
    attribute: compileAttribute(typeof condition.attribute === 'string' ? condition.attribute : ''),
    op,
    invert,
    strings,
    numbers,
    anyNumbers,
    matchTrue,
    matchFalse,
    stringTrue,
    stringFalse,
    texts,
    patterns,
    bound,
    versions,
    segmentKeys,
  };
}
