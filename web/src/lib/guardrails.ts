import type {
  Guardrail,
  GuardrailCheck,
  GuardrailVerdict,
  MetricAggregate,
  Milestone,
  ReleasePlan,
  SampleRatioCheck,
  Serve,
} from '../api/types.ts';

/**
 * Guardrails of release plans in the console: the form's drafts checked as the API checks them, the treatment and
 * control a new guardrail starts with, a metric's cumulative mean per variant with its 95 % confidence interval
 * (from the exact per-minute count, sum and sum of squares), and the checks in words.
 */

/** The API's bounds (shared/contracts/flags-api.ts, Guardrail). */
export const maxGuardrails = 10;
export const metricNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
export const defaultAlpha = 0.05;
export const maxAlpha = 0.2;
export const maxMaxDifference = 1e9;
export const defaultMinSamples = 100;
export const minMinSamples = 30;
export const maxMinSamples = 1_000_000;

export type WorseWhen = NonNullable<Guardrail['worseWhen']>;

/** A guardrail as it is being typed: numbers kept as text until they are checked. */
export interface GuardrailDraft {
  metric: string;
  treatment: string;
  control: string;
  worseWhen: WorseWhen;
  maxDifference: string;
  /** Empty: the API's default (0.05). */
  alpha: string;
  /** Empty: the API's default (100 events per variant). */
  minSamples: string;
}

export type GuardrailField = 'metric' | 'treatment' | 'control' | 'maxDifference' | 'alpha' | 'minSamples';
export type GuardrailErrors = Partial<Record<GuardrailField, string>>;

/** A decimal number as typed ("0.01", ",5", "1e-3"), or undefined when it is not one. */
export function parseDecimal(text: string): number | undefined {
  const trimmed = text.trim().replace(',', '.');
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

/** One draft checked as the API would: the guardrail to send, or what is wrong with each field. */
export function checkGuardrail(draft: GuardrailDraft, variantKeys: readonly string[]): { guardrail?: Guardrail; errors: GuardrailErrors } {
  const errors: GuardrailErrors = {};
  const metric = draft.metric.trim();
  if (metric === '') errors.metric = 'Name the metric: the tracking event name the application sends';
  else if (!metricNamePattern.test(metric))
    errors.metric =
      metric.length > 100
        ? 'At most 100 characters'
        : 'Letters, digits and _ . : - only, starting with a letter or a digit (like checkout.error or latency_ms)';

  if (draft.treatment === '') errors.treatment = 'Choose the variant being released';
  else if (!variantKeys.includes(draft.treatment)) errors.treatment = `“${draft.treatment}” is not a variant of this flag`;
  if (draft.control === '') errors.control = 'Choose the variant to compare it with';
  else if (!variantKeys.includes(draft.control)) errors.control = `“${draft.control}” is not a variant of this flag`;
  else if (draft.control === draft.treatment) errors.control = 'Compare with another variant than the treatment';

  const maxDifference = parseDecimal(draft.maxDifference);
  if (draft.maxDifference.trim() === '') errors.maxDifference = 'How much worse the treatment may be (0: not worse at all)';
  else if (maxDifference === undefined) errors.maxDifference = 'A number, like 0.01 or 50';
  else if (maxDifference < 0) errors.maxDifference = 'At least 0';
  else if (maxDifference > maxMaxDifference) errors.maxDifference = 'At most 1,000,000,000';

  const alpha = draft.alpha.trim() === '' ? undefined : parseDecimal(draft.alpha);
  if (draft.alpha.trim() !== '') {
    if (alpha === undefined) errors.alpha = 'A number, like 0.05';
    else if (alpha <= 0) errors.alpha = 'More than 0';
    else if (alpha > maxAlpha) errors.alpha = `At most ${maxAlpha}`;
  }

  const minSamples = draft.minSamples.trim() === '' ? undefined : parseDecimal(draft.minSamples);
  if (draft.minSamples.trim() !== '') {
    if (minSamples === undefined || !Number.isInteger(minSamples)) errors.minSamples = 'A whole number of events, like 100';
    else if (minSamples < minMinSamples) errors.minSamples = `At least ${minMinSamples}`;
    else if (minSamples > maxMinSamples) errors.minSamples = 'At most 1,000,000';
  }

  if (Object.keys(errors).length > 0 || maxDifference === undefined) return { errors };
  return {
    guardrail: {
      metric,
      treatment: draft.treatment,
      control: draft.control,
      worseWhen: draft.worseWhen,
      maxDifference,
      ...(alpha !== undefined ? { alpha } : {}),
      ...(minSamples !== undefined ? { minSamples } : {}),
    },
    errors,
  };
}

/**
 * Every draft checked: the guardrails to send (none is fine), or each draft's errors. The same comparison twice
 * (metric, treatment and control) is refused too: it would only judge the same thing twice.
 */
export function checkGuardrails(
  drafts: readonly GuardrailDraft[],
  variantKeys: readonly string[],
): { guardrails?: Guardrail[]; errors: GuardrailErrors[]; problem?: string } {
  const checked = drafts.map((d) => checkGuardrail(d, variantKeys));
  const errors = checked.map((c) => c.errors);
  const seen = new Map<string, number>();
  checked.forEach((c, i) => {
    if (!c.guardrail) return;
    const key = JSON.stringify([c.guardrail.metric, c.guardrail.treatment, c.guardrail.control]);
    const first = seen.get(key);
    if (first !== undefined) errors[i] = { ...errors[i], metric: `The same comparison as guardrail ${first + 1}` };
    else seen.set(key, i);
  });
  if (drafts.length > maxGuardrails) return { errors, problem: `At most ${maxGuardrails} guardrails` };
  if (errors.some((e) => Object.keys(e).length > 0)) return { errors };
  return { guardrails: checked.map((c) => c.guardrail!), errors };
}

/** The weight a serve gives each variant, in percent. */
function weightsOf(serve: Serve): Map<string, number> {
  if (serve.variant !== undefined) return new Map([[serve.variant, 100]]);
  return new Map((serve.rollout ?? []).map((s) => [s.variant, s.weight]));
}

/** The variants some milestone serves to anyone (a positive weight). */
export function servedVariants(milestones: readonly Milestone[]): Set<string> {
  const served = new Set<string>();
  for (const m of milestones) for (const [variant, weight] of weightsOf(m.serve)) if (weight > 0) served.add(variant);
  return served;
}

/**
 * The treatment and control a new guardrail starts with: the treatment is the variant the last milestone ramps
 * toward (what it serves alone, or its largest share); the control is what the environment serves now when that is
 * another single variant, else the variant the milestones give the most to besides the treatment, else any other.
 */
export function prefillVariants(
  milestones: readonly Milestone[],
  variantKeys: readonly string[],
  currentServe: Serve | undefined,
): { treatment: string; control: string } {
  const last = milestones.at(-1);
  let treatment = '';
  if (last) {
    let best = -1;
    for (const [variant, weight] of weightsOf(last.serve))
      if (variantKeys.includes(variant) && weight > best) {
        treatment = variant;
        best = weight;
      }
  }
  if (treatment === '') treatment = variantKeys[0] ?? '';

  const current = currentServe?.variant;
  if (current !== undefined && current !== treatment && variantKeys.includes(current)) return { treatment, control: current };
  const given = new Map<string, number>();
  for (const m of milestones)
    for (const [variant, weight] of weightsOf(m.serve))
      if (variant !== treatment && variantKeys.includes(variant)) given.set(variant, (given.get(variant) ?? 0) + weight);
  const control = [...given].sort((a, b) => b[1] - a[1])[0]?.[0] ?? variantKeys.find((k) => k !== treatment) ?? '';
  return { treatment, control };
}

/** A new draft for the form: its variants prefilled, the defaults of the API for the rest. */
export function newGuardrailDraft(
  milestones: readonly Milestone[],
  variantKeys: readonly string[],
  currentServe: Serve | undefined,
): GuardrailDraft {
  return {
    metric: '',
    ...prefillVariants(milestones, variantKeys, currentServe),
    worseWhen: 'higher',
    maxDifference: '',
    alpha: String(defaultAlpha),
    minSamples: '',
  };
}

/** A sample's count, sum and sum of squares: they add up exactly over minutes. */
export interface Moments {
  count: number;
  sum: number;
  sumOfSquares: number;
}

/** A mean and its 95 % confidence interval (low, high undefined below two events: no variance yet). */
export interface MeanEstimate {
  count: number;
  mean: number;
  /** Sample standard deviation (n − 1). */
  sd: number | undefined;
  low: number | undefined;
  high: number | undefined;
}

/** z for a two-sided 95 % interval. */
export const z95 = 1.96;

/** The mean of a sample and mean ± 1.96·sd/√n (sample variance, n − 1); undefined with no event. */
export function meanWithInterval({ count, sum, sumOfSquares }: Moments, z = z95): MeanEstimate | undefined {
  if (count <= 0) return undefined;
  const mean = sum / count;
  if (count < 2) return { count, mean, sd: undefined, low: undefined, high: undefined };
  // Rounding can make a constant sample's variance a hair below 0.
  const variance = Math.max(0, (sumOfSquares - (sum * sum) / count) / (count - 1));
  const sd = Math.sqrt(variance);
  const half = (z * sd) / Math.sqrt(count);
  return { count, mean, sd, low: mean - half, high: mean + half };
}

/** A variant's mean over every event since the start, as it stood at the end of a minute. */
export interface CumulativePoint extends MeanEstimate {
  /** The minute's start (ms since the epoch). */
  at: number;
}

/** A metric's cumulative mean per variant, minute by minute (each variant's points in time order). */
export function cumulativeSeries(items: readonly MetricAggregate[], metric: string): Map<string, CumulativePoint[]> {
  const byVariant = new Map<string, MetricAggregate[]>();
  for (const item of items) if (item.metric === metric) byVariant.set(item.variant, [...(byVariant.get(item.variant) ?? []), item]);
  const series = new Map<string, CumulativePoint[]>();
  for (const [variant, rows] of byVariant) {
    const totals: Moments = { count: 0, sum: 0, sumOfSquares: 0 };
    const points: CumulativePoint[] = [];
    for (const row of [...rows].sort((a, b) => Date.parse(a.minute) - Date.parse(b.minute))) {
      totals.count += row.count;
      totals.sum += row.sum;
      totals.sumOfSquares += row.sumOfSquares;
      const estimate = meanWithInterval(totals);
      if (estimate) points.push({ at: Date.parse(row.minute), ...estimate });
    }
    series.set(variant, points);
  }
  return series;
}

/** One row of a chart: the minute, and each variant's cumulative estimate by then (absent before its first event). */
export interface ChartRow {
  at: number;
  values: Record<string, CumulativePoint | undefined>;
}

/**
 * The series as chart rows, one per minute any variant had events, each variant carrying its last estimate forward
 * (its cumulative mean did not change in a minute without its events). Past `maxRows`, every k-th row is kept and
 * the last one always: nothing is lost of the lines' ends, only detail in between.
 */
export function chartRows(series: ReadonlyMap<string, readonly CumulativePoint[]>, variants: readonly string[], maxRows = 400): ChartRow[] {
  const minutes = [...new Set(variants.flatMap((v) => (series.get(v) ?? []).map((p) => p.at)))].sort((a, b) => a - b);
  const next = new Map(variants.map((v) => [v, 0]));
  const last: Record<string, CumulativePoint | undefined> = {};
  const rows = minutes.map((at) => {
    for (const v of variants) {
      const points = series.get(v) ?? [];
      let i = next.get(v)!;
      while (i < points.length && points[i]!.at <= at) last[v] = points[i++];
      next.set(v, i);
    }
    return { at, values: { ...last } };
  });
  if (rows.length <= maxRows) return rows;
  const step = Math.ceil(rows.length / maxRows);
  return rows.filter((_, i) => i % step === 0 || i === rows.length - 1);
}

/**
 * Where a guardrail breaches on the chart: control's mean plus the allowed difference when higher is worse, minus
 * it when lower is worse (undefined before control has an event).
 */
export function limitOf(row: ChartRow, guardrail: Pick<Guardrail, 'control' | 'maxDifference' | 'worseWhen'>): number | undefined {
  const control = row.values[guardrail.control];
  if (!control) return undefined;
  return (guardrail.worseWhen ?? 'higher') === 'lower' ? control.mean - guardrail.maxDifference : control.mean + guardrail.maxDifference;
}

/** The metrics a plan's guardrails watch, each once, in the order of the guardrails. */
export function guardrailMetrics(guardrails: readonly Guardrail[]): string[] {
  return [...new Set(guardrails.map((g) => g.metric))];
}

/** A metric's value short: four significant digits ("0.05234", "1235", "12.5"). */
export function formatMetricValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  return String(Number(value.toPrecision(4)));
}

/** A difference with its sign: "+0.041", "−2.5", "0". */
export function formatDifference(value: number): string {
  const text = formatMetricValue(Math.abs(value));
  return value > 0 ? `+${text}` : value < 0 ? `−${text}` : text;
}

/** A p-value with its sign: "p = 0.042", "p < 0.001". */
export function formatP(p: number): string {
  const text = formatPValue(p);
  return text.startsWith('<') ? `p ${text}` : `p = ${text}`;
}

/** A p-value short: "< 0.001", "0.042", "1". */
export function formatPValue(p: number): string {
  if (!Number.isFinite(p)) return '—';
  if (p < 0.001) return '< 0.001';
  if (p >= 1) return '1';
  return String(Number(p.toPrecision(2)));
}

export const verdictLabels: Record<GuardrailVerdict, string> = {
  'too-few-samples': 'Too few samples',
  'no-breach-yet': 'Holding',
  breach: 'Breach',
};

export const verdictTones: Record<GuardrailVerdict, 'neutral' | 'on' | 'off'> = {
  'too-few-samples': 'neutral',
  'no-breach-yet': 'on',
  breach: 'off',
};

/** "“on” at most 0.01 above “off”" (higher is worse) or "… below …" (lower is worse). */
export function describeGuardrail(guardrail: Guardrail, variantLabel: (key: string) => string = (key) => key): string {
  const direction = (guardrail.worseWhen ?? 'higher') === 'lower' ? 'below' : 'above';
  return `“${variantLabel(guardrail.treatment)}” at most ${formatMetricValue(guardrail.maxDifference)} ${direction} “${variantLabel(guardrail.control)}”`;
}

/** What a check says, in a sentence (the verdict's reason). */
export function describeCheck(check: GuardrailCheck, minSamples = defaultMinSamples): string {
  switch (check.verdict) {
    case 'too-few-samples':
      return `No verdict before each variant has ${minSamples.toLocaleString('en')} events (${check.treatment.variant}: ${check.treatment.count.toLocaleString('en')}, ${check.control.variant}: ${check.control.count.toLocaleString('en')}).`;
    case 'no-breach-yet':
      return check.difference > check.maxDifference
        ? `Worse than allowed so far, but not yet beyond chance (${formatP(check.pValue)}, not below α = ${check.alpha}).`
        : `Within the allowed difference so far (${formatP(check.pValue)}; a breach needs p below α = ${check.alpha}).`;
    case 'breach':
      return `Worse than allowed beyond chance: ${formatP(check.pValue)}, below α = ${check.alpha}.`;
  }
}

/** The split served against the weights, per variant: counts, the share observed and the share expected (percent). */
export function sampleRatioRows(
  check: SampleRatioCheck,
): { variant: string; observed: number; observedShare: number; expectedShare: number }[] {
  const variants = [...new Set([...Object.keys(check.weights), ...Object.keys(check.observed)])];
  const total = variants.reduce((sum, v) => sum + (check.observed[v] ?? 0), 0);
  const weights = variants.reduce((sum, v) => sum + (check.weights[v] ?? 0), 0);
  return variants.map((variant) => ({
    variant,
    observed: check.observed[variant] ?? 0,
    observedShare: total > 0 ? ((check.observed[variant] ?? 0) / total) * 100 : 0,
    expectedShare: weights > 0 ? ((check.weights[variant] ?? 0) / weights) * 100 : 0,
  }));
}

/** A share in percent, one decimal at most: 12.5 → "12.5 %", 1 → "1 %". */
export function formatShare(percent: number): string {
  return `${Math.round(percent * 10) / 10} %`;
}

/**
 * Whether a guardrail rolled the plan back, and which: a rolled-back plan whose check says `breach`, or whose
 * outcome says a guardrail did it (the check then undefined if none says breach).
 */
export function guardrailRollbackOf(
  plan: Pick<ReleasePlan, 'status' | 'outcome' | 'guardrails' | 'guardrailChecks'>,
): { index: number | undefined; check: GuardrailCheck | undefined } | undefined {
  if (plan.status !== 'rolled-back') return undefined;
  const index = plan.guardrailChecks.findIndex((c) => c.verdict === 'breach');
  if (index >= 0) return { index, check: plan.guardrailChecks[index] };
  if (plan.outcome && /guardrail/i.test(plan.outcome)) return { index: undefined, check: undefined };
  return undefined;
}

/** GET /analytics/metrics answers at most a day per request (per-minute rows). */
export const metricsSpanMs = 24 * 3_600_000;
/** The windows asked at most: a plan longer than this many days is charted over its last days only. */
export const maxMetricWindows = 14;

/**
 * The time windows to ask for a plan's metric events from `from` to `to` (ms), each at most `spanMs`, aligned on
 * `from` so that a window once past stays the same from one refresh to the next (and can be kept). Past
 * `maxWindows`, only the last ones: `since` says where the chart starts then.
 */
export function metricWindows(
  from: number,
  to: number,
  spanMs = metricsSpanMs,
  maxWindows = maxMetricWindows,
): { windows: { index: number; from: number; to: number }[]; since: number } {
  const end = Math.max(to, from + 60_000);
  const count = Math.max(1, Math.ceil((end - from) / spanMs));
  const first = Math.max(0, count - maxWindows);
  const windows = Array.from({ length: count - first }, (_, i) => {
    const index = first + i;
    return { index, from: from + index * spanMs, to: Math.min(from + (index + 1) * spanMs, end) };
  });
  return { windows, since: windows[0]!.from };
}

/** Rows of several answers as one list, each metric, variant and minute once (the later answer wins), in order. */
export function mergeMetricRows(lists: readonly (readonly MetricAggregate[])[]): MetricAggregate[] {
  const byKey = new Map<string, MetricAggregate>();
  for (const list of lists) for (const row of list) byKey.set(`${row.metric}\u0000${row.variant}\u0000${Date.parse(row.minute)}`, row);
  return [...byKey.values()].sort(
    (a, b) => a.metric.localeCompare(b.metric) || a.variant.localeCompare(b.variant) || Date.parse(a.minute) - Date.parse(b.minute),
  );
}
