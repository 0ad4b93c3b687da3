import type { Condition, Operator, StoredSegment } from '../api/types.ts';
import { attributePattern, operatorLabels } from '../lib/format.ts';

/** Every operator of docs/targeting.md, grouped as the editor offers them. */
export const operatorGroups: { label: string; operators: Operator[] }[] = [
  { label: 'Equality', operators: ['eq', 'neq', 'in', 'not_in'] },
  { label: 'Text', operators: ['contains', 'starts_with', 'ends_with', 'matches'] },
  { label: 'Numbers', operators: ['lt', 'lte', 'gt', 'gte'] },
  { label: 'Versions (SemVer)', operators: ['semver_eq', 'semver_lt', 'semver_gt'] },
  { label: 'Dates (ISO-8601)', operators: ['before', 'after'] },
  { label: 'Presence', operators: ['exists', 'not_exists'] },
  { label: 'Segments', operators: ['in_segment', 'not_in_segment'] },
];

// Record<Operator, …> makes the compiler name any operator the platform adds; the groups must list each one.
const everyOperator: Record<Operator, true> = {
  eq: true,
  neq: true,
  in: true,
  not_in: true,
  contains: true,
  starts_with: true,
  ends_with: true,
  matches: true,
  lt: true,
  lte: true,
  gt: true,
  gte: true,
  semver_eq: true,
  semver_lt: true,
  semver_gt: true,
  before: true,
  after: true,
  exists: true,
  not_exists: true,
  in_segment: true,
  not_in_segment: true,
};
export const allOperators = Object.keys(everyOperator) as Operator[];
const grouped = new Set(operatorGroups.flatMap((g) => g.operators));
if (allOperators.some((op) => !grouped.has(op))) throw new Error('operatorGroups misses an operator');

const noValues: Operator[] = ['exists', 'not_exists'];
const numeric: Operator[] = ['lt', 'lte', 'gt', 'gte'];
const semver: Operator[] = ['semver_eq', 'semver_lt', 'semver_gt'];
const dates: Operator[] = ['before', 'after'];
const segmentOps: Operator[] = ['in_segment', 'not_in_segment'];

const semverPattern =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const isoPattern = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

function validDate(text: string): boolean {
  const m = isoPattern.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const probe = new Date(Date.UTC(year, month - 1, day));
  return (
    probe.getUTCFullYear() === year &&
    probe.getUTCMonth() === month - 1 &&
    probe.getUTCDate() === day &&
    Number(m[4] ?? 0) < 24 &&
    Number(m[5] ?? 0) < 60
  );
}

export interface ConditionDraft {
  attribute: string;
  operator: Operator;
  negate: boolean;
  /** One value per line. */
  valuesText: string;
  /** Values as loaded, so an unchanged "5" stays the number it was. */
  original: Condition['values'];
  /** For in_segment / not_in_segment. */
  segmentKeys: string[];
}

export function conditionDraftOf(condition?: Condition): ConditionDraft {
  if (!condition) return { attribute: '', operator: 'in', negate: false, valuesText: '', original: [], segmentKeys: [] };
  const isSegment = segmentOps.includes(condition.operator);
  return {
    attribute: condition.attribute,
    operator: condition.operator,
    negate: condition.negate ?? false,
    valuesText: isSegment ? '' : condition.values.map(String).join('\n'),
    original: condition.values,
    segmentKeys: isSegment ? condition.values.map(String) : [],
  };
}

export interface ConditionCheck {
  condition?: Condition;
  attributeError?: string;
  valuesError?: string;
}

/** The write-time checks of docs/targeting.md, run before anything is sent. */
export function checkCondition(draft: ConditionDraft): ConditionCheck {
  const attribute = segmentOps.includes(draft.operator) && draft.attribute.trim() === '' ? 'targetingKey' : draft.attribute.trim();
  const out: ConditionCheck = {};
  if (!attribute) out.attributeError = 'Name the context attribute (e.g. country, plan, account.id)';
  else if (!attributePattern.test(attribute)) out.attributeError = 'An attribute is a name like country or a dotted path like account.plan';
  let values: Condition['values'] = [];
  if (segmentOps.includes(draft.operator)) {
    values = draft.segmentKeys;
    if (values.length === 0) out.valuesError = 'Choose at least one segment';
  } else if (!noValues.includes(draft.operator)) {
    const lines = draft.valuesText
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    if (lines.length === 0) out.valuesError = 'Enter at least one value (one per line)';
    else if (numeric.includes(draft.operator)) {
      const bad = lines.filter((l) => !Number.isFinite(Number(l)));
      if (bad.length > 0) out.valuesError = `Not a number: ${bad.join(', ')}`;
      values = lines.map(Number);
    } else if (semver.includes(draft.operator)) {
      const bad = lines.filter((l) => !semverPattern.test(l));
      if (bad.length > 0) out.valuesError = `Not a semantic version (like 1.2.0): ${bad.join(', ')}`;
      values = lines;
    } else if (dates.includes(draft.operator)) {
      const bad = lines.filter((l) => !validDate(l));
      if (bad.length > 0) out.valuesError = `Not an ISO-8601 date (like 2025-03-01 or 2025-03-01T10:00Z): ${bad.join(', ')}`;
      values = lines;
    } else if (draft.operator === 'matches') {
      const long = lines.filter((l) => l.length > 500);
      if (long.length > 0) out.valuesError = 'A pattern may have at most 500 characters';
      values = lines;
    } else {
      values = lines.map((line) => draft.original.find((v) => String(v) === line) ?? line);
    }
  }
  if (out.attributeError || out.valuesError) return out;
  return { condition: { attribute, operator: draft.operator, values, ...(draft.negate ? { negate: true } : {}) } };
}

/** "country is one of BR, US" (in lib/format.ts, which pages' logic shares). */
export { describeCondition } from '../lib/format.ts';

export function ConditionEditor({
  draft,
  onChange,
  onRemove,
  segments,
  index,
}: {
  draft: ConditionDraft;
  onChange: (draft: ConditionDraft) => void;
  onRemove: () => void;
  segments: StoredSegment[];
  index: number;
}) {
  const check = checkCondition(draft);
  const isSegment = segmentOps.includes(draft.operator);
  const n = index + 1;
  return (
    <div className="condition" data-testid={`condition-${index}`}>
      <div className="condition-row">
        <input
          type="text"
          className="condition-attribute"
          placeholder={isSegment ? 'targetingKey' : 'attribute, e.g. country'}
          aria-label={`Condition ${n} attribute`}
          aria-invalid={check.attributeError ? true : undefined}
          value={draft.attribute}
          onChange={(e) => onChange({ ...draft, attribute: e.target.value })}
          list="known-attributes"
          data-testid={`condition-${index}-attribute`}
        />
        <select
          aria-label={`Condition ${n} operator`}
          value={draft.operator}
          onChange={(e) => onChange({ ...draft, operator: e.target.value as Operator })}
          data-testid={`condition-${index}-operator`}
        >
          {operatorGroups.map((group) => (
            <optgroup key={group.label} label={group.label}>
              {group.operators.map((op) => (
                <option key={op} value={op}>
                  {operatorLabels[op]} ({op})
                </option>
              ))}
            </optgroup>
          ))}
        </select>
        <label className="checkbox" title="Invert the operator's answer (also holds when the attribute is missing)">
          <input
            type="checkbox"
            checked={draft.negate}
            onChange={(e) => onChange({ ...draft, negate: e.target.checked })}
            aria-label={`Condition ${n}: negate`}
          />
          not
        </label>
        <button type="button" className="btn btn-ghost btn-small" onClick={onRemove} aria-label={`Remove condition ${n}`}>
          Remove
        </button>
      </div>
      {check.attributeError ? <span className="field-error">{check.attributeError}</span> : null}
      {isSegment ? (
        <div className="condition-segments" role="group" aria-label={`Condition ${n} segments`}>
          {segments.length === 0 ? <span className="field-hint">No segments yet: create one on the Segments page.</span> : null}
          {segments.map((s) => (
            <label key={s.key} className="checkbox">
              <input
                type="checkbox"
                checked={draft.segmentKeys.includes(s.key)}
                onChange={(e) =>
                  onChange({
                    ...draft,
                    segmentKeys: e.target.checked ? [...draft.segmentKeys, s.key] : draft.segmentKeys.filter((k) => k !== s.key),
                  })
                }
              />
              {s.name} <code>{s.key}</code>
            </label>
          ))}
        </div>
      ) : noValues.includes(draft.operator) ? null : (
        <textarea
          className="condition-values"
          rows={Math.min(6, Math.max(2, draft.valuesText.split('\n').length))}
          placeholder={placeholderOf(draft.operator)}
          aria-label={`Condition ${n} values, one per line`}
          aria-invalid={check.valuesError ? true : undefined}
          value={draft.valuesText}
          onChange={(e) => onChange({ ...draft, valuesText: e.target.value })}
          spellCheck={false}
          data-testid={`condition-${index}-values`}
        />
      )}
      {check.valuesError ? (
        <span className="field-error">{check.valuesError}</span>
      ) : (
        <span className="field-hint">{hintOf(draft.operator)}</span>
      )}
    </div>
  );
}

function placeholderOf(op: Operator): string {
  if (numeric.includes(op)) return '18';
  if (semver.includes(op)) return '2.3.0';
  if (dates.includes(op)) return '2025-03-01T00:00:00Z';
  if (op === 'matches') return '^[a-z]+@example\\.com$';
  return 'one value per line, e.g.\nBR\nUS';
}

function hintOf(op: Operator): string {
  if (noValues.includes(op)) return 'No values: only whether the attribute is present.';
  if (segmentOps.includes(op)) return 'The context is checked against the chosen segments (the attribute is not read).';
  if (op === 'matches')
    return 'RE2 patterns (no backreferences or lookaround), unanchored: use ^…$ to match all of it. Any one pattern is enough.';
  if (numeric.includes(op)) return 'Numbers; numeric strings in the context are converted. Any one value is enough.';
  if (semver.includes(op)) return 'Semantic versions; the context value must be a version string (a leading v is allowed).';
  if (dates.includes(op))
    return 'ISO-8601 dates; without an offset a time is UTC. The context value is a date string or epoch milliseconds.';
  return 'One value per line; any one matching is enough.';
}

export function ConditionsEditor({
  drafts,
  onChange,
  segments,
}: {
  drafts: ConditionDraft[];
  onChange: (drafts: ConditionDraft[]) => void;
  segments: StoredSegment[];
}) {
  return (
    <div className="conditions">
      <datalist id="known-attributes">
        {['targetingKey', 'email', 'country', 'plan', 'appVersion', 'platform', 'accountId', 'signupDate', 'now'].map((a) => (
          <option key={a} value={a} />
        ))}
      </datalist>
      {drafts.length === 0 ? <p className="field-hint">No conditions: every context passes this part.</p> : null}
      {drafts.map((draft, i) => (
        <div key={i}>
          {i > 0 ? <div className="and">and</div> : null}
          <ConditionEditor
            index={i}
            draft={draft}
            segments={segments}
            onChange={(next) => onChange(drafts.map((d, j) => (j === i ? next : d)))}
            onRemove={() => onChange(drafts.filter((_, j) => j !== i))}
          />
        </div>
      ))}
      <button type="button" className="btn btn-small" onClick={() => onChange([...drafts, conditionDraftOf()])} data-testid="add-condition">
        + Add condition
      </button>
    </div>
  );
}
