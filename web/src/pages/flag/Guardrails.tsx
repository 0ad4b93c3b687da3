import { useRef, useState } from 'react';
import { Area, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { analyticsApi } from '../../api/endpoints.ts';
import type { Flag, Guardrail, GuardrailCheck, MetricAggregate, Milestone, ReleasePlan, Serve } from '../../api/types.ts';
import { Badge, Button, ErrorBox, Field } from '../../components/ui.tsx';
import { formatDateTime, formatTime, relativeTime, variantColor } from '../../lib/format.ts';
import {
  chartRows,
  cumulativeSeries,
  defaultMinSamples,
  describeCheck,
  describeGuardrail,
  formatDifference,
  formatMetricValue,
  formatP,
  formatPValue,
  formatShare,
  guardrailMetrics,
  guardrailRollbackOf,
  limitOf,
  maxGuardrails,
  mergeMetricRows,
  metricNamePattern,
  metricWindows,
  newGuardrailDraft,
  sampleRatioRows,
  servedVariants,
  verdictLabels,
  verdictTones,
  type ChartRow,
  type GuardrailDraft,
  type GuardrailErrors,
  type GuardrailField,
} from '../../lib/guardrails.ts';
import { useInterval, useResource } from '../../lib/hooks.ts';

/**
 * Guardrails of release plans: the start form's section (add, remove, each checked as the API checks it), each
 * guardrail's last check and the sample-ratio check of a plan, a rollback by a guardrail said plainly, and a chart per
 * metric of each variant's mean since the plan started with its 95 % interval.
 */

/** How often a running plan's metric chart is asked again. */
const chartEveryMs = 10_000;
/** The chart's time axis: hours and minutes (its points are minutes). */
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
/** Where a guardrail breaches, on the chart. */
const limitColor = '#b42318';

/** A guardrail in the start form: the draft, and which fields were touched (their errors shown only then). */
export interface GuardrailFormItem extends GuardrailDraft {
  id: number;
  touched: Partial<Record<GuardrailField, boolean>>;
}

let nextGuardrailId = 1;

function labelOf(flag: Flag) {
  return (key: string) => flag.variants.find((v) => v.key === key)?.name || key;
}

/** The start form's guardrails: none to ten, each a metric compared between two variants. */

/** The guardrail form's number fields, each a text input checked by checkGuardrail (web/src/lib/guardrails.ts). */
const numberFields: {
  field: 'maxDifference' | 'alpha' | 'minSamples';
  label: string;
  hint: string;
  placeholder: string;
  inputMode: 'decimal' | 'numeric';
  testSuffix: string;
}[] = [
  {
    field: 'maxDifference',
    label: 'Max difference',
    hint: 'In the metric’s unit; 0.01 = 1 point of a 0/1 rate',
    placeholder: 'e.g. 0.01',
    inputMode: 'decimal',
    testSuffix: 'max',
  },
  {
    field: 'alpha',
    label: 'Alpha (α)',
    hint: 'False-alarm rate over the whole release (at most 0.2)',
    placeholder: '0.05',
    inputMode: 'decimal',
    testSuffix: 'alpha',
  },
  {
    field: 'minSamples',
    label: 'Min. events',
    hint: `Per variant, before a verdict (default ${defaultMinSamples})`,
    placeholder: String(defaultMinSamples),
    inputMode: 'numeric',
    testSuffix: 'min-samples',
  },
];

export function GuardrailsSection({
  flag,
  items,
  onChange,
  errors,
  problem,
  showAll,
  milestones,
  currentServe,
  testId,
}: {
  flag: Flag;
  items: GuardrailFormItem[];
  onChange: (items: GuardrailFormItem[]) => void;
  errors: GuardrailErrors[];
  problem: string | undefined;
  /** Every error shown, touched or not (after a try to start). */
  showAll: boolean;
  /** The milestones as they stand, for the variants a new guardrail starts with. */
  milestones: readonly Milestone[];
  currentServe: Serve;
  testId: string;
}) {
  const keys = flag.variants.map((v) => v.key);
  const variantLabel = labelOf(flag);
  const served = servedVariants(milestones);
  const update = (index: number, change: Partial<GuardrailDraft>, field?: GuardrailField) =>
    onChange(
      items.map((item, i) =>
        i === index ? { ...item, ...change, touched: field ? { ...item.touched, [field]: true } : item.touched } : item,
      ),
    );
  const touch = (index: number, field: GuardrailField) =>
    onChange(
      items.map((item, i) => (i === index && !item.touched[field] ? { ...item, touched: { ...item.touched, [field]: true } } : item)),
    );
  const errorOf = (index: number, field: GuardrailField) => (showAll || items[index]?.touched[field] ? errors[index]?.[field] : undefined);

  return (
    <fieldset className="env-form guardrails-form" data-testid={`${testId}-guardrails`}>
      <legend className="field-label">Guardrails (optional)</legend>
      <p className="field-hint">
        A guardrail compares a metric’s mean per event — the tracking events your application sends for this flag (name, value) — between
        the variant released and another one, with a test that stays valid however often it looks. When the released variant is worse by
        more than you allow, the release worker rolls the plan back on its own.
      </p>
      {items.length > 0 ? (
        <ol className="milestone-drafts guardrail-drafts">
          {items.map((item, i) => {
            const unserved = [item.treatment, item.control].filter((v) => v !== '' && keys.includes(v) && !served.has(v));
            return (
              <li key={item.id} className="milestone-draft guardrail-draft" data-testid={`${testId}-g${i}`}>
                <div className="schedule-head">
                  <strong>Guardrail {i + 1}</strong>
                  <button
                    type="button"
                    className="btn btn-ghost btn-small"
                    onClick={() => onChange(items.filter((_, j) => j !== i))}
                    aria-label={`Remove guardrail ${i + 1}`}
                    data-testid={`${testId}-g${i}-remove`}
                  >
                    Remove
                  </button>
                </div>
                <Field
                  label="Metric"
                  hint="The tracking event’s name, e.g. checkout.error (1 per failed checkout, 0 otherwise) or latency_ms"
                  error={errorOf(i, 'metric')}
                >
                  <input
                    type="text"
                    value={item.metric}
                    maxLength={100}
                    spellCheck={false}
                    autoComplete="off"
                    onChange={(e) => update(i, { metric: e.target.value })}
                    onBlur={() => touch(i, 'metric')}
                    aria-invalid={errorOf(i, 'metric') ? true : undefined}
                    data-testid={`${testId}-g${i}-metric`}
                  />
                </Field>
                <div className="guardrail-row">
                  {(
                    [
                      ['treatment', 'Treatment', 'The variant released'],
                      ['control', 'Control', 'The variant it is compared with'],
                    ] as const
                  ).map(([field, label, hint]) => (
                    <Field key={field} label={label} hint={hint} error={errorOf(i, field)}>
                      <select
                        value={item[field]}
                        onChange={(e) => update(i, { [field]: e.target.value }, field)}
                        data-testid={`${testId}-g${i}-${field}`}
                      >
                        {item[field] === '' ? <option value="">Choose…</option> : null}
                        {flag.variants.map((v) => (
                          <option key={v.key} value={v.key}>
                            {variantLabel(v.key)}
                          </option>
                        ))}
                      </select>
                    </Field>
                  ))}
                  <Field label="Worse when" hint={item.worseWhen === 'lower' ? 'e.g. conversions' : 'e.g. errors, latency'}>
                    <select
                      value={item.worseWhen}
                      onChange={(e) => update(i, { worseWhen: e.target.value === 'lower' ? 'lower' : 'higher' })}
                      data-testid={`${testId}-g${i}-worse`}
                    >
                      <option value="higher">higher</option>
                      <option value="lower">lower</option>
                    </select>
                  </Field>
                </div>
                <div className="guardrail-row">
                  {numberFields.map(({ field, label, hint, placeholder, inputMode, testSuffix }) => (
                    <Field key={field} label={label} hint={hint} error={errorOf(i, field)} className="guardrail-number">
                      <input
                        type="text"
                        inputMode={inputMode}
                        value={item[field]}
                        placeholder={placeholder}
                        onChange={(e) => update(i, { [field]: e.target.value })}
                        onBlur={() => touch(i, field)}
                        aria-invalid={errorOf(i, field) ? true : undefined}
                        data-testid={`${testId}-g${i}-${testSuffix}`}
                      />
                    </Field>
                  ))}
                </div>
                {metricNamePattern.test(item.metric.trim()) && item.treatment && item.control && item.treatment !== item.control ? (
                  <p className="field-hint" data-testid={`${testId}-g${i}-summary`}>
                    {`Rolls back when the mean of ${item.metric.trim()} in “${variantLabel(item.treatment)}” ` +
                      `${item.worseWhen === 'lower' ? 'falls below' : 'exceeds'} that in “${variantLabel(item.control)}” ` +
                      `by more than ${item.maxDifference.trim() || '…'}, beyond chance.`}
                  </p>
                ) : null}
                {unserved.length > 0 ? (
                  <p className="field-hint guardrail-unserved" data-testid={`${testId}-g${i}-unserved`}>
                    No milestone serves {unserved.map((v) => `“${variantLabel(v)}”`).join(' or ')}: without its events this guardrail gives
                    no verdict.
                  </p>
                ) : null}
              </li>
            );
          })}
        </ol>
      ) : null}
      {problem ? <span className="field-error">{problem}</span> : null}
      <div>
        <Button
          small
          onClick={() => onChange([...items, { id: nextGuardrailId++, touched: {}, ...newGuardrailDraft(milestones, keys, currentServe) }])}
          disabledReason={items.length >= maxGuardrails ? `At most ${maxGuardrails} guardrails` : undefined}
          data-testid={`${testId}-guardrail-add`}
        >
          + Add a guardrail
        </Button>
      </div>
    </fieldset>
  );
}

/** A rollback made by a guardrail, said where it cannot be missed: which, and the figures that decided. */
export function GuardrailRollback({ flag, plan }: { flag: Flag; plan: ReleasePlan }) {
  const rollback = guardrailRollbackOf(plan);
  if (!rollback) return null;
  const variantLabel = labelOf(flag);
  const { check, index } = rollback;
  const guardrail = index !== undefined ? plan.guardrails[index] : undefined;
  return (
    <div className="alert alert-error guardrail-rollback" role="status" data-testid="plan-guardrail-rollback">
      <strong>
        Rolled back by a guardrail{check ? `: ${check.metric}` : ''}
        {guardrail ? ` (${describeGuardrail(guardrail, variantLabel)})` : ''}.
      </strong>
      {check ? (
        <span>
          {`“${variantLabel(check.treatment.variant)}” ${formatMetricValue(check.treatment.mean)} against ` +
            `“${variantLabel(check.control.variant)}” ${formatMetricValue(check.control.mean)}: ` +
            `${formatDifference(check.difference)} worse, more than the ${formatMetricValue(check.maxDifference)} allowed ` +
            `(${formatP(check.pValue)}, below α = ${check.alpha}).`}
        </span>
      ) : null}
    </div>
  );
}

/** Each guardrail's last check, the sample-ratio check, and the metrics' charts. */
export function PlanGuardrails({ flag, plan, now }: { flag: Flag; plan: ReleasePlan; now: number }) {
  if (plan.guardrails.length === 0) return null;
  return (
    <section className="plan-guardrails" aria-label="Guardrails" data-testid="plan-guardrails">
      <h4>Guardrails</h4>
      <ul className="guardrail-list">
        {plan.guardrails.map((guardrail, i) => (
          <GuardrailItem key={i} flag={flag} guardrail={guardrail} check={plan.guardrailChecks[i]} now={now} />
        ))}
      </ul>
      <SampleRatio flag={flag} plan={plan} now={now} />
      <GuardrailCharts flag={flag} plan={plan} />
    </section>
  );
}

/** A finished plan's guardrails, on demand (their chart asks the metric events of the whole run). */
export function FinishedPlanGuardrails({ flag, plan, now }: { flag: Flag; plan: ReleasePlan; now: number }) {
  const [open, setOpen] = useState(false);
  if (plan.guardrails.length === 0) return null;
  const mismatch = plan.sampleRatio?.mismatch ? plan.sampleRatio : undefined;
  return (
    <>
      {mismatch ? (
        <div className="alert alert-warn guardrail-rollback" data-testid="plan-sample-ratio-mismatch-end">
          <span>
            At its last look the split served did not match the weights (sample ratio mismatch, {formatP(mismatch.pValue)}):{' '}
            {sampleRatioRows(mismatch)
              .map((r) => `“${labelOf(flag)(r.variant)}” ${formatShare(r.observedShare)} for ${formatShare(r.expectedShare)}`)
              .join(', ')}
            .
          </span>
        </div>
      ) : null}
      <button type="button" className="link" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="plan-guardrails-toggle">
        {open ? 'Hide the guardrails' : `Show the guardrails (${guardrailMetrics(plan.guardrails).join(', ')})`}
      </button>
      {open ? <PlanGuardrails flag={flag} plan={plan} now={now} /> : null}
    </>
  );
}

function GuardrailItem({
  flag,
  guardrail,
  check,
  now,
}: {
  flag: Flag;
  guardrail: Guardrail;
  check: GuardrailCheck | undefined;
  now: number;
}) {
  const variantLabel = labelOf(flag);
  return (
    <li className="guardrail" data-testid="plan-guardrail" data-verdict={check?.verdict ?? 'none'}>
      <div className="schedule-head">
        <span>
          <strong className="guardrail-metric">{guardrail.metric}</strong>{' '}
          <span className="muted">{describeGuardrail(guardrail, variantLabel)}</span>
        </span>
        <Badge tone={check ? verdictTones[check.verdict] : 'neutral'} testId="plan-guardrail-verdict">
          {check ? verdictLabels[check.verdict] : 'Not checked yet'}
        </Badge>
      </div>
      {check ? (
        <>
          <dl className="guardrail-figures">
            <div>
              <dt>“{variantLabel(check.treatment.variant)}” (treatment)</dt>
              <dd>
                {formatMetricValue(check.treatment.mean)} <span className="muted">· {check.treatment.count.toLocaleString()} events</span>
              </dd>
            </div>
            <div>
              <dt>“{variantLabel(check.control.variant)}” (control)</dt>
              <dd>
                {formatMetricValue(check.control.mean)} <span className="muted">· {check.control.count.toLocaleString()} events</span>
              </dd>
            </div>
            <div>
              <dt>Difference</dt>
              <dd data-testid="plan-guardrail-difference">
                {`${formatDifference(check.difference)}${check.difference > 0 ? ' worse' : check.difference < 0 ? ' better' : ''}`}{' '}
                <span className="muted">(at most {formatMetricValue(check.maxDifference)} allowed)</span>
              </dd>
            </div>
            <div>
              <dt title="The smallest seen over every look: valid however often the guardrail looks">p-value (always valid)</dt>
              <dd data-testid="plan-guardrail-p">
                {formatPValue(check.pValue)} <span className="muted">(breach below α {check.alpha})</span>
              </dd>
            </div>
          </dl>
          <p className="guardrail-why muted">
            {describeCheck(check, guardrail.minSamples ?? defaultMinSamples)} Checked{' '}
            <time dateTime={check.checkedAt} title={formatDateTime(check.checkedAt)}>
              {relativeTime(check.checkedAt, now)}
            </time>
            .
          </p>
        </>
      ) : (
        <p className="guardrail-why muted">The release worker checks it at its next look, once events come in.</p>
      )}
    </li>
  );
}

/** Whether the split served matches the weights: a mismatch makes every comparison meaningless. */
function SampleRatio({ flag, plan, now }: { flag: Flag; plan: ReleasePlan; now: number }) {
  const check = plan.sampleRatio;
  if (!check) return null;
  const variantLabel = labelOf(flag);
  return (
    <div className="sample-ratio" data-testid="plan-sample-ratio" data-mismatch={check.mismatch}>
      <div className="schedule-head">
        <strong>Split served</strong>
        <Badge tone={check.mismatch ? 'warn' : 'on'} testId="plan-sample-ratio-verdict">
          {check.mismatch ? 'Mismatch' : 'As planned'}
        </Badge>
      </div>
      <ul className="sample-ratio-rows">
        {sampleRatioRows(check).map((row) => (
          <li key={row.variant}>
            “{variantLabel(row.variant)}” {row.observed.toLocaleString()} events = <strong>{formatShare(row.observedShare)}</strong>{' '}
            <span className="muted">(weight {formatShare(row.expectedShare)})</span>
          </li>
        ))}
      </ul>
      <p className="guardrail-why muted">
        χ² p-value {formatPValue(check.pValue)}
        {check.mismatch ? ' (a mismatch below 0.001)' : ''}, checked{' '}
        <time dateTime={check.checkedAt} title={formatDateTime(check.checkedAt)}>
          {relativeTime(check.checkedAt, now)}
        </time>
        .
      </p>
      {check.mismatch ? (
        <div className="alert alert-warn" data-testid="plan-sample-ratio-mismatch">
          <span>
            Sample ratio mismatch: the split actually served does not match the milestone’s weights. Users may be assigned or their events
            sent unevenly, so the guardrails’ comparisons cannot be trusted until the cause is found.
          </span>
        </div>
      ) : null}
    </div>
  );
}

/**
 * A plan's metric events since it started, asked a day at a time (the API's limit per request), the days already
 * past kept; asked again every 10 s while the plan runs (a paused plan still serves its split).
 */
function usePlanMetrics(flag: Flag, plan: ReleasePlan) {
  const metrics = guardrailMetrics(plan.guardrails);
  const running = plan.status === 'active' || plan.status === 'paused';
  const kept = useRef(new Map<number, MetricAggregate[]>());
  const resource = useResource(
    async (signal) => {
      const start = Date.parse(plan.createdAt);
      const end = running ? Date.now() : Date.parse(plan.updatedAt);
      const { windows, since } = metricWindows(start, end);
      const answers = await Promise.all(
        windows.map(async (w) => {
          const known = kept.current.get(w.index);
          if (known) return known;
          const { data } = await analyticsApi.metrics(
            {
              flagKey: flag.key,
              environment: plan.environment,
              from: new Date(w.from).toISOString(),
              to: new Date(w.to).toISOString(),
              metric: metrics.length === 1 ? metrics[0] : undefined,
            },
            signal,
          );
          // A window over for a few minutes no longer changes: kept, not asked again.
          if (w.to < Date.now() - 5 * 60_000) kept.current.set(w.index, data.items);
          return data.items;
        }),
      );
      return { items: mergeMetricRows(answers), since, at: Date.now() };
    },
    [flag.key, plan.id, plan.status, metrics.join('\u0000')],
  );
  useInterval(resource.reload, chartEveryMs, running);
  return resource;
}

/** One chart per metric: each variant's mean since the plan started, its 95 % interval, and where the guardrail breaches. */
function GuardrailCharts({ flag, plan }: { flag: Flag; plan: ReleasePlan }) {
  const data = usePlanMetrics(flag, plan);
  const snapshot = data.data;
  return (
    <div className="guardrail-charts" data-testid="plan-guardrail-charts">
      <ErrorBox error={data.error} onRetry={data.reload} title="The metric events could not be loaded." />
      {snapshot ? (
        guardrailMetrics(plan.guardrails).map((metric) => (
          <MetricChart
            key={metric}
            flag={flag}
            metric={metric}
            guardrails={plan.guardrails.filter((g) => g.metric === metric)}
            items={snapshot.items}
            since={snapshot.since}
            startedAt={Date.parse(plan.createdAt)}
            updatedAt={plan.status === 'active' || plan.status === 'paused' ? snapshot.at : undefined}
          />
        ))
      ) : !data.error ? (
        <p className="muted">Loading the metric events…</p>
      ) : null}
    </div>
  );
}

function MetricChart({
  flag,
  metric,
  guardrails,
  items,
  since,
  startedAt,
  updatedAt,
}: {
  flag: Flag;
  metric: string;
  guardrails: Guardrail[];
  items: MetricAggregate[];
  since: number;
  startedAt: number;
  updatedAt: number | undefined;
}) {
  const variantLabel = labelOf(flag);
  const keys = flag.variants.map((v) => v.key);
  const variants = [...new Set(guardrails.flatMap((g) => [g.treatment, g.control]))];
  const series = cumulativeSeries(items, metric);
  const rows = chartRows(series, variants);
  const colorOf = (key: string) => variantColor(keys.indexOf(key));
  const total = (variant: string) => series.get(variant)?.at(-1)?.count ?? 0;
  return (
    <figure className="card chart guardrail-chart" data-testid="plan-guardrail-chart" data-metric={metric}>
      <figcaption className="guardrail-chart-title">
        <strong>{metric}</strong>: mean per event since {since > startedAt ? formatDateTime(new Date(since).toISOString()) : 'the start'},
        with its 95 % interval
        {updatedAt !== undefined ? <span className="muted"> · updated {formatTime(updatedAt)}, every 10 s</span> : null}
        <span className="visually-hidden">
          {variants
            .map((v) => {
              const last = series.get(v)?.at(-1);
              return last
                ? `${variantLabel(v)}: mean ${formatMetricValue(last.mean)} over ${last.count} events`
                : `${variantLabel(v)}: no events`;
            })
            .join('; ')}
        </span>
      </figcaption>
      {rows.length === 0 ? (
        <p className="chart-empty">
          No {metric} events yet: they appear here about a minute after the application tracks them (OpenFeature tracking, with this flag
          and its variant).
        </p>
      ) : null}
      <ResponsiveContainer width="100%" height={220}>
        <ComposedChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: -8 }}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis
            dataKey="at"
            type="number"
            scale="time"
            domain={['dataMin', 'dataMax']}
            tickFormatter={(at: number) => clock.format(at)}
            minTickGap={24}
            tick={{ fontSize: 11 }}
          />
          <YAxis domain={['auto', 'auto']} tick={{ fontSize: 11 }} tickFormatter={(v: number) => formatMetricValue(v)} width={56} />
          <Tooltip
            labelFormatter={(_label, payload) =>
              payload[0] ? `Since the start, through ${clock.format((payload[0].payload as ChartRow).at)}` : ''
            }
            formatter={(value) =>
              Array.isArray(value) ? value.map((v) => formatMetricValue(Number(v))).join(' – ') : formatMetricValue(Number(value))
            }
          />
          <Legend />
          {variants.map((v) => (
            <Area
              key={`band-${v}`}
              name={`95 % interval, “${variantLabel(v)}”`}
              dataKey={(row: ChartRow) => {
                const point = row.values[v];
                return point?.low !== undefined && point.high !== undefined ? [point.low, point.high] : null;
              }}
              stroke="none"
              fill={colorOf(v)}
              fillOpacity={0.15}
              legendType="none"
              connectNulls
              isAnimationActive={false}
            />
          ))}
          {variants.map((v) => (
            <Line
              key={`mean-${v}`}
              name={`“${variantLabel(v)}” (${total(v).toLocaleString()} events)`}
              dataKey={(row: ChartRow) => row.values[v]?.mean ?? null}
              stroke={colorOf(v)}
              strokeWidth={2}
              dot={false}
              connectNulls
              isAnimationActive={false}
            />
          ))}
          {guardrails.map((g, i) => (
            <Line
              key={`limit-${i}`}
              name={`limit for “${variantLabel(g.treatment)}”`}
              dataKey={(row: ChartRow) => limitOf(row, g) ?? null}
              stroke={limitColor}
              strokeDasharray="5 4"
              strokeWidth={1}
              dot={false}
              connectNulls
              isAnimationActive={false}
            />
          ))}
        </ComposedChart>
      </ResponsiveContainer>
    </figure>
  );
}
