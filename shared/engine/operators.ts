import type { Operator } from '../contracts/targeting-model.ts';

/**
 * Every operator is a base test, possibly complemented: `neq` is not(`eq`), `not_in` is not(`in`), `not_exists` is
 * not(`exists`), `not_in_segment` is not(`in_segment`). `eq` and `in` are the same test (any listed value equal).
 * A compiled condition holds when `test !== invert`, where invert = complemented XOR negate.
 */
export const Op = {
  /** An operator the engine does not know: never holds, whatever `negate` says. */
  invalid: 0,
  equals: 1,
  contains: 2,
  startsWith: 3,
  endsWith: 4,
  matches: 5,
  lt: 6,
  lte: 7,
  gt: 8,
  gte: 9,
  semverEq: 10,
  semverLt: 11,
  semverGt: 12,
  before: 13,
  after: 14,
  exists: 15,
  inSegment: 16,
} as const;
export type OpCode = (typeof Op)[keyof typeof Op];

export interface OperatorInfo {
  readonly name: Operator;
  readonly code: OpCode;
  /** The operator is the complement of its base test. */
  readonly complement: boolean;
  /** What its values are: compared values, none, or segment keys. */
  readonly values: 'compared' | 'none' | 'segments';
}

const table: Record<Operator, Omit<OperatorInfo, 'name'>> = {
  eq: { code: Op.equals, complement: false, values: 'compared' },
  neq: { code: Op.equals, complement: true, values: 'compared' },
  in: { code: Op.equals, complement: false, values: 'compared' },
  not_in: { code: Op.equals, complement: true, values: 'compared' },
  contains: { code: Op.contains, complement: false, values: 'compared' },
  starts_with: { code: Op.startsWith, complement: false, values: 'compared' },
  ends_with: { code: Op.endsWith, complement: false, values: 'compared' },
  matches: { code: Op.matches, complement: false, values: 'compared' },
  lt: { code: Op.lt, complement: false, values: 'compared' },
  lte: { code: Op.lte, complement: false, values: 'compared' },
  gt: { code: Op.gt, complement: false, values: 'compared' },
  gte: { code: Op.gte, complement: false, values: 'compared' },
  semver_eq: { code: Op.semverEq, complement: false, values: 'compared' },
  semver_lt: { code: Op.semverLt, complement: false, values: 'compared' },
  semver_gt: { code: Op.semverGt, complement: false, values: 'compared' },
  before: { code: Op.before, complement: false, values: 'compared' },
  after: { code: Op.after, complement: false, values: 'compared' },
  exists: { code: Op.exists, complement: false, values: 'none' },
  not_exists: { code: Op.exists, complement: true, values: 'none' },
  in_segment: { code: Op.inSegment, complement: false, values: 'segments' },
  not_in_segment: { code: Op.inSegment, complement: true, values: 'segments' },
};

const infos = new Map<string, OperatorInfo>(Object.entries(table).map(([name, info]) => [name, { name: name as Operator, ...info }]));

/** The operator's entry, or undefined for a name that is not an operator. */
export function operatorInfo(operator: string): OperatorInfo | undefined {
  return infos.get(operator);
}

/** Most characters a `matches` pattern may have. */
export const maxPatternLength = 500;
