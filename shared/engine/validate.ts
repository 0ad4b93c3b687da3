import type { FieldProblem } from '../contracts/flag-model.ts';
import type { Condition } from '../contracts/targeting-model.ts';
import { parseIsoDate } from './coercion.ts';
import { compilePattern } from './compile-condition.ts';
import { maxPatternLength, operatorInfo } from './operators.ts';
import semver from 'semver';

/**
 * Write-time checks of one condition, for the targeting service: values of the kind the operator reads. The engine
 * itself tolerates anything (an unreadable value simply never matches); this is what keeps such values out.
 */

const attributePattern = /^[A-Za-z_$][A-Za-z0-9_$-]*(\.[A-Za-z_$][A-Za-z0-9_$-]*)*$/;
const segmentKeyPattern = /^[a-z0-9]+(?:[-_.][a-z0-9]+)*$/;

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function conditionProblems(condition: Condition, path: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const attribute: unknown = condition.attribute;
  if (typeof attribute !== 'string' || attribute.length > 200 || !attributePattern.test(attribute)) {
    problems.push({ path: `${path}/attribute`, message: 'must be an attribute name or a dotted path such as "account.plan"' });
  }
  if (condition.negate !== undefined && typeof condition.negate !== 'boolean') {
    problems.push({ path: `${path}/negate`, message: 'must be a boolean' });
  }
  const operator: unknown = condition.operator;
  const info = typeof operator === 'string' ? operatorInfo(operator) : undefined;
  if (info === undefined) {
    problems.push({ path: `${path}/operator`, message: `is not an operator (${describe(operator)})` });
    return problems;
  }
  const values: unknown = condition.values;
  if (!Array.isArray(values)) {
    problems.push({ path: `${path}/values`, message: 'must be a list' });
    return problems;
  }
  if (info.values === 'none') {
    if (values.length > 0) problems.push({ path: `${path}/values`, message: `must be empty for ${info.name}` });
    return problems;
  }
  if (values.length === 0) {
    problems.push({ path: `${path}/values`, message: `needs at least one value for ${info.name}` });
    return problems;
  }
  const check = checkerFor(info.name);
  for (const [i, value] of (values as unknown[]).entries()) {
    const message = check(value);
    if (message !== undefined) problems.push({ path: `${path}/values/${i}`, message });
  }
  return problems;
}

type Checker = (value: unknown) => string | undefined;

const anyScalar: Checker = (v) =>
  typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))
    ? undefined
    : 'must be a string, a number or a boolean';

const text: Checker = (v) =>
  typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)) ? undefined : 'must be a string or a number';

const number: Checker = (v) => (typeof v === 'number' && Number.isFinite(v) ? undefined : `must be a number (${describe(v)} is not)`);

const version: Checker = (v) =>
  typeof v === 'string' && semver.valid(v) !== null ? undefined : `must be a semantic version such as "1.4.0" (${describe(v)} is not)`;

const date: Checker = (v) =>
  typeof v === 'string' && !Number.isNaN(parseIsoDate(v))
    ? undefined
    : `must be an ISO-8601 date or date-time such as "2025-03-01T00:00:00Z" (${describe(v)} is not)`;

const pattern: Checker = (v) => {
  if (typeof v !== 'string') return 'must be a regular expression (a string)';
  if (v.length > maxPatternLength) return `must be at most ${maxPatternLength} characters`;
  return compilePattern(v) === undefined ? `is not a regular expression RE2 accepts (${describe(v)})` : undefined;
};

const segmentKey: Checker = (v) =>
  typeof v === 'string' && v.length <= 100 && segmentKeyPattern.test(v) ? undefined : `must be a segment key (${describe(v)} is not)`;

function checkerFor(operator: Condition['operator']): Checker {
  switch (operator) {
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return number;
    case 'semver_eq':
    case 'semver_lt':
    case 'semver_gt':
      return version;
    case 'before':
    case 'after':
      return date;
    case 'matches':
      return pattern;
    case 'contains':
    case 'starts_with':
    case 'ends_with':
      return text;
    case 'in_segment':
    case 'not_in_segment':
      return segmentKey;
    default:
      return anyScalar;
  }
}
