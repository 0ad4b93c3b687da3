import type { Serve } from '../../../shared/contracts/flag-model.ts';
import { checkSampleRatio } from '../../../shared/statistics/sample-ratio.ts';
import { judgeGuardrail, mixingVarianceFor, type ArmSummary } from '../../../shared/statistics/sequential-test.ts';
import type { Guardrail, GuardrailCheck, ReleasePlan, SampleRatioCheck } from './release-plan.ts';

/** What the evaluator reads: the analytics' exact sums (the release worker adapts the analytics store to this). */
export interface GuardrailData {
  /** A metric's events per variant of a flag's environment, from `from` to `to` (epoch ms, whole minutes). */
  metricByVariant(query: {
    environment: string;
    flagKey: string;
    metric: string;
    from: number;
    to: number;
  }): Promise<Map<string, ArmSummary>>;
  /** Evaluations the default serve's split answered, per variant (`SPLIT`, no rule), from `from` to `to`. */
  splitByVariant(query: { environment: string; flagKey: string; from: number; to: number }): Promise<Map<string, number>>;
}

/** What one look at a plan found: each guardrail's figures, the split's check, and the breach that decides, if any. */
export interface Look {
  checks: GuardrailCheck[];
  sampleRatio: SampleRatioCheck | null;
  breach: GuardrailCheck | undefined;
}

const minute = 60_000;
/** The minute the analytics may still be filling: its events can be seconds behind (buffers, the queue, the worker). */
const settleMs = 10_000;
/**
 * A split is called broken only when it is both improbable (the always-valid test's p < 0.001) and off by more than this
 * share: counts are evaluations, not users, and a user who asks many times makes them vary more than independent draws. A real fault — a
 * bucketing bug, a cache serving an old split — moves the shares by more than two points.
 */
const minShareGap = 0.02;
const noData: ArmSummary = { count: 0, sum: 0, sumOfSquares: 0 };

/** Worse-when-lower metrics (conversions) are judged as their negatives: a drop is then an increase. */
const oriented = (arm: ArmSummary, guardrail: Guardrail): ArmSummary => (guardrail.worseWhen === 'lower' ? { ...arm, sum: -arm.sum } : arm);

const weightsOf = (serve: Serve): Record<string, number> =>
  serve.rollout ? Object.fromEntries(serve.rollout.map((slice) => [slice.variant, slice.weight])) : {};

/**
 * Judges a release plan's guardrails on everything measured since it started (the always-valid test may look as often
 * as it likes), and checks the split served since its current milestone against that milestone's weights.
 */
export function createGuardrailEvaluator(deps: { data: GuardrailData; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());

  async function judge(plan: ReleasePlan, guardrail: Guardrail, previous: GuardrailCheck | undefined, at: Date): Promise<GuardrailCheck> {
    const arms = await deps.data.metricByVariant({
      environment: plan.environment,
      flagKey: plan.flagKey,
      metric: guardrail.metric,
      from: plan.createdAt.getTime() - (plan.createdAt.getTime() % minute),
      to: at.getTime(),
    });
    const treatment = arms.get(guardrail.treatment) ?? noData;
    const control = arms.get(guardrail.control) ?? noData;
    const alpha = guardrail.alpha ?? 0.05;
    const verdict = judgeGuardrail({
      treatment: oriented(treatment, guardrail),
      control: oriented(control, guardrail),
      margin: guardrail.maxDifference,
      alpha,
      mixingVariance: mixingVarianceFor(guardrail.maxDifference),
      minSamples: guardrail.minSamples ?? 100,
    });
    // The always-valid p-value is the smallest over every look (the same metric's, should the list have changed).
    const pValue = previous?.metric === guardrail.metric ? Math.min(previous.pValue, verdict.pValue) : verdict.pValue;
    const mean = (arm: ArmSummary) => (arm.count === 0 ? 0 : arm.sum / arm.count);
    return {
      metric: guardrail.metric,
      checkedAt: at.toISOString(),
      treatment: { variant: guardrail.treatment, count: treatment.count, mean: mean(treatment) },
      control: { variant: guardrail.control, count: control.count, mean: mean(control) },
      difference: verdict.difference,
      maxDifference: guardrail.maxDifference,
      pValue,
      alpha,
      verdict: verdict.verdict,
    };
  }

  /** The split since the current milestone began (whole, settled minutes only), against its weights; null if nothing to check. */
  async function checkSplit(plan: ReleasePlan, at: Date): Promise<SampleRatioCheck | null> {
    const serve = plan.serving ?? plan.milestones[plan.step]?.serve;
    const weights = serve ? weightsOf(serve) : {};
    if (Object.values(weights).filter((w) => w > 0).length < 2) return null;
    // The plan's last write is when its current serve began (or a pause, an approval: later, so only safer).
    const from = Math.ceil(plan.updatedAt.getTime() / minute) * minute;
    const to = Math.floor((at.getTime() - settleMs) / minute) * minute - 1;
    if (to <= from) return null;
    const observed = Object.fromEntries(await deps.data.splitByVariant({ environment: plan.environment, flagKey: plan.flagKey, from, to }));
    const check = checkSampleRatio(observed, weights);
    const total = Object.keys(weights).reduce((n, v) => n + (observed[v] ?? 0), 0);
    const weightSum = Object.values(weights).reduce((n, w) => n + w, 0);
    const gap = Math.max(...Object.entries(weights).map(([v, w]) => Math.abs((observed[v] ?? 0) / Math.max(1, total) - w / weightSum)));
    return {
      checkedAt: at.toISOString(),
      observed: Object.fromEntries(Object.keys(weights).map((v) => [v, observed[v] ?? 0])),
      weights,
      pValue: check.pValue,
      mismatch: check.mismatch && gap > minShareGap,
    };
  }

  return {
    /** One look: every guardrail judged, the split checked. A breach is the first guardrail that breached. */
    async look(plan: ReleasePlan): Promise<Look> {
      const at = now();
      const checks: GuardrailCheck[] = [];
      for (const [index, guardrail] of plan.guardrails.entries())
        checks.push(await judge(plan, guardrail, plan.guardrailChecks[index], at));
      return { checks, sampleRatio: await checkSplit(plan, at), breach: checks.find((check) => check.verdict === 'breach') };
    },
  };
}

export type GuardrailEvaluator = ReturnType<typeof createGuardrailEvaluator>;

/** The figures that decided, in words (the plan's outcome, the logs). */
export function describeBreach(check: GuardrailCheck): string {
  const figure = (n: number) => String(Number(n.toPrecision(3)));
  return (
    `guardrail "${check.metric}" breached: ${check.treatment.variant} ${figure(check.treatment.mean)} (n=${check.treatment.count}) ` +
    `vs ${check.control.variant} ${figure(check.control.mean)} (n=${check.control.count}), worse by ${figure(check.difference)} ` +
    `> ${figure(check.maxDifference)} allowed, p=${check.pValue.toPrecision(2)} < ${check.alpha}`
  );
}

export function describeMismatch(check: SampleRatioCheck): string {
  const total = Object.values(check.observed).reduce((n, c) => n + c, 0);
  const weightSum = Object.values(check.weights).reduce((n, w) => n + w, 0);
  const shares = Object.keys(check.weights)
    .map(
      (v) =>
        `${v} ${(((check.observed[v] ?? 0) / Math.max(1, total)) * 100).toFixed(1)}% (weight ${((check.weights[v]! / weightSum) * 100).toFixed(0)}%)`,
    )
    .join(', ');
  return `sample ratio mismatch: served ${shares} over ${total} evaluations, p=${check.pValue.toPrecision(2)}: paused`;
}
