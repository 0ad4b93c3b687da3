import { useId } from 'react';
import type { Serve, Variant } from '../api/types.ts';
import { attributePattern, variantColor } from '../lib/format.ts';

export interface ServeDraft {
  mode: 'variant' | 'rollout';
  variant: string;
  /** Slice order matters for bucketing: kept as it was, new variants appended at the end. */
  order: string[];
  weights: Record<string, string>;
  bucketBy: string;
}

export function serveDraftOf(serve: Serve | undefined, variants: Variant[]): ServeDraft {
  const keys = variants.map((v) => v.key);
  const rollout = serve?.rollout ?? [];
  const order = [
    ...rollout.map((s) => s.variant).filter((k) => keys.includes(k)),
    ...keys.filter((k) => !rollout.some((s) => s.variant === k)),
  ];
  const weights = Object.fromEntries(order.map((k) => [k, String(rollout.find((s) => s.variant === k)?.weight ?? 0)]));
  if (rollout.length === 0) Object.assign(weights, evenWeights(keys));
  return {
    mode: serve?.rollout ? 'rollout' : 'variant',
    variant: serve?.variant ?? keys[0] ?? '',
    order,
    weights,
    bucketBy: serve?.bucketBy ?? '',
  };
}

/** Thousandths of a percent, so 33.333 + 33.333 + 33.334 is exactly 100. */
function thousandths(text: string): number | undefined {
  if (!/^\d{1,3}(\.\d{1,3})?$/.test(text.trim())) return undefined;
  const scaled = Math.round(Number(text) * 1000);
  return scaled >= 0 && scaled <= 100_000 ? scaled : undefined;
}

function evenWeights(keys: string[]): Record<string, string> {
  if (keys.length === 0) return {};
  const base = Math.floor(100_000 / keys.length);
  const rest = 100_000 - base * keys.length;
  return Object.fromEntries(keys.map((k, i) => [k, String((base + (i === 0 ? rest : 0)) / 1000)]));
}

export interface ServeCheck {
  serve?: Serve;
  /** Total of the split in percent, when every weight is readable. */
  total?: number;
  errors: string[];
  weightErrors: Record<string, string>;
}

export function checkServe(draft: ServeDraft): ServeCheck {
  if (draft.mode === 'variant') {
    return draft.variant
      ? { serve: { variant: draft.variant }, errors: [], weightErrors: {} }
      : { errors: ['Choose a variant'], weightErrors: {} };
  }
  const weightErrors: Record<string, string> = {};
  let total = 0;
  for (const key of draft.order) {
    const scaled = thousandths(draft.weights[key] ?? '');
    if (scaled === undefined) weightErrors[key] = 'A percentage from 0 to 100, at most three decimals';
    else total += scaled;
  }
  const errors: string[] = [];
  if (Object.keys(weightErrors).length > 0) errors.push('Every weight must be a percentage from 0 to 100 with at most three decimals');
  else if (total !== 100_000) errors.push(`The weights must total 100% (they total ${total / 1000}%)`);
  const bucketBy = draft.bucketBy.trim();
  if (bucketBy && !attributePattern.test(bucketBy)) errors.push('The bucketing attribute must be a name like accountId or account.id');
  if (errors.length > 0) return { ...(Object.keys(weightErrors).length === 0 ? { total: total / 1000 } : {}), errors, weightErrors };
  return {
    serve: {
      rollout: draft.order.map((variant) => ({ variant, weight: Number(draft.weights[variant]) })),
      ...(bucketBy ? { bucketBy } : {}),
    },
    total: 100,
    errors: [],
    weightErrors,
  };
}

/** What an enabled flag serves: one variant, or a percentage split whose total is shown as it is typed. */
export function ServeEditor({
  variants,
  draft,
  onChange,
  disabled,
  testId = 'serve',
}: {
  variants: Variant[];
  draft: ServeDraft;
  onChange: (draft: ServeDraft) => void;
  disabled?: boolean;
  testId?: string;
}) {
  const name = useId();
  const check = checkServe(draft);
  const labelOf = (key: string) => variants.find((v) => v.key === key)?.name || key;
  return (
    <fieldset className="serve-editor" disabled={disabled} data-testid={testId}>
      <div className="segmented" role="radiogroup" aria-label="What to serve">
        <label>
          <input
            type="radio"
            name={name}
            checked={draft.mode === 'variant'}
            onChange={() => onChange({ ...draft, mode: 'variant' })}
            data-testid={`${testId}-mode-variant`}
          />
          One variant
        </label>
        <label>
          <input
            type="radio"
            name={name}
            checked={draft.mode === 'rollout'}
            onChange={() => onChange({ ...draft, mode: 'rollout' })}
            data-testid={`${testId}-mode-split`}
          />
          Percentage split
        </label>
      </div>
      {draft.mode === 'variant' ? (
        <select
          aria-label="Variant to serve"
          value={draft.variant}
          onChange={(e) => onChange({ ...draft, variant: e.target.value })}
          data-testid={`${testId}-variant`}
        >
          {variants.map((v) => (
            <option key={v.key} value={v.key}>
              {labelOf(v.key)}
            </option>
          ))}
        </select>
      ) : (
        <div className="split">
          {draft.order.map((key) => {
            const weight = Number(draft.weights[key]);
            return (
              <div className="split-row" key={key}>
                <span className="split-variant">{labelOf(key)}</span>
                <span className="split-bar" aria-hidden="true">
                  <span
                    style={{
                      width: `${Number.isFinite(weight) ? Math.min(100, Math.max(0, weight)) : 0}%`,
                      background: variantColor(variants.findIndex((v) => v.key === key)),
                    }}
                  />
                </span>
                <span className="split-input">
                  <input
                    type="text"
                    inputMode="decimal"
                    aria-label={`Weight of ${labelOf(key)} in percent`}
                    aria-invalid={check.weightErrors[key] ? true : undefined}
                    value={draft.weights[key] ?? ''}
                    onChange={(e) => onChange({ ...draft, weights: { ...draft.weights, [key]: e.target.value } })}
                    data-testid={`${testId}-weight-${key}`}
                  />
                  %
                </span>
              </div>
            );
          })}
          <div className={`split-total${check.total === 100 ? ' ok' : ' bad'}`} data-testid={`${testId}-total`} aria-live="polite">
            Total: {check.total !== undefined ? `${check.total}%` : '—'}
            {check.total !== 100 ? ' (must be 100%)' : ''}
          </div>
          <div className="split-tools">
            <button
              type="button"
              className="btn btn-ghost btn-small"
              onClick={() => onChange({ ...draft, weights: evenWeights(draft.order) })}
            >
              Split evenly
            </button>
            <label className="inline-field">
              <span>Bucket by</span>
              <input
                type="text"
                placeholder="targetingKey"
                value={draft.bucketBy}
                onChange={(e) => onChange({ ...draft, bucketBy: e.target.value })}
                aria-label="Attribute to bucket by (default targetingKey)"
              />
            </label>
          </div>
        </div>
      )}
      {check.errors.length > 0 && draft.mode === 'rollout' ? (
        <ul className="form-errors">
          {check.errors.map((e) => (
            <li key={e}>{e}</li>
          ))}
        </ul>
      ) : null}
    </fieldset>
  );
}
