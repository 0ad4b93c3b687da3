import { Type, type Static } from 'typebox';
import { Strict } from '../http/schemas.ts';
import { FlagKey, Serve } from './flag-model.ts';

/**
 * Rules and segments, as the targeting service stores them and the evaluation engine reads them.
 * The semantics of each operator (and how values are coerced) are written down in docs/targeting.md.
 */
export const operators = [
  'eq',
  'neq',
  'in',
  'not_in',
  'contains',
  'starts_with',
  'ends_with',
  'matches',
  'lt',
  'lte',
  'gt',
  'gte',
  'semver_eq',
  'semver_lt',
  'semver_gt',
  'before',
  'after',
  'exists',
  'not_exists',
  'in_segment',
  'not_in_segment',
] as const;
export type Operator = (typeof operators)[number];

export const SegmentKey = FlagKey;

/** A context attribute: a top-level name (`country`, `targetingKey`) or a dotted path into nested objects (`account.plan`). */
export const AttributeName = Type.String({ pattern: '^[A-Za-z_$][A-Za-z0-9_$-]*(\\.[A-Za-z_$][A-Za-z0-9_$-]*)*$', maxLength: 200 });

export const ConditionValue = Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]);

export const Condition = Strict({
  attribute: AttributeName,
  operator: Type.Enum([...operators]),
  /** Compared with the attribute; any one matching is enough. Segment keys for in_segment / not_in_segment; empty for exists / not_exists. */
  values: Type.Array(ConditionValue, { maxItems: 1000 }),
  negate: Type.Optional(Type.Boolean({ description: 'Invert the result of the operator' })),
});
export type Condition = Static<typeof Condition>;

/** The segments that `in_segment` / `not_in_segment` conditions name. */
export const segmentKeysOf = (conditions: readonly Condition[]): string[] =>
  conditions.filter((c) => c.operator === 'in_segment' || c.operator === 'not_in_segment').flatMap((c) => c.values.map(String));

/** A rule as written or proposed whole (a change request's `rules`): what it matches and serves; its place is its index. */
export const RuleSpec = Strict({
  name: Type.Optional(Type.String({ maxLength: 200 })),
  conditions: Type.Array(Condition, { maxItems: 50, description: 'All must hold' }),
  segments: Type.Optional(Type.Array(SegmentKey, { maxItems: 20, description: 'The context must be in every one' })),
  serve: Serve,
});
export type RuleSpec = Static<typeof RuleSpec>;

export interface Rule {
  id: string;
  flagKey: string;
  environment: string;
  /** Lower runs first; rules of one flag and environment have distinct priorities. */
  priority: number;
  name: string;
  /** All must hold. */
  conditions: Condition[];
  /** Segment keys; the context must be in every one of them. */
  segments: string[];
  serve: Serve;
}

export interface Segment {
  key: string;
  /**
   * The project it belongs to (fixed at creation); only rules of that project's flags may use it. Absent from
   * segments written before projects: the default project.
   */
  project?: string;
  name: string;
  description: string;
  /** All must hold (a segment with no conditions holds only its `included` keys). */
  conditions: Condition[];
  /** Targeting keys always in the segment (unless excluded). */
  included: string[];
  /** Targeting keys never in the segment; wins over `included` and the conditions. */
  excluded: string[];
}
