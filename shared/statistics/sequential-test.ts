/**
 * The guardrail test: is the treatment worse than control by more than a margin? Judged at every look (each step of
 * a release, each minute of metrics) without the false alarms repeated looks cause in a fixed-horizon test.
 *
 * The method is the mixture sequential probability ratio test (mSPRT) of Johari, Koomen, Pekelis and Walsh, "Peeking
 * at A/B Tests" (KDD 2017) and "Always Valid Inference" (Operations Research 2022), for a difference of means with
 * normal approximations: with θ̂ the observed difference (treatment − control), V its variance, θ₀ the margin and a
 * normal mixing distribution of variance τ² centred on θ₀, the likelihood ratio is
 *
 *   Λ = √(V / (V + τ²)) · exp( τ² (θ̂ − θ₀)² / (2 V (V + τ²)) )
 *
 * and 1/Λ is an always-valid p-value: the probability that Λ ever reaches 1/α, however often it is looked at, is at
 * most α when the true difference is θ₀. A breach is declared only in the harmful direction (θ̂ > θ₀). Assumptions:
 * independent observations (one per user or per event — docs/release-automation.md says which), samples large
 * enough for the means to be near normal (the test refuses to judge before `minSamples` per arm), and V estimated
 * from the samples (plug-in), as the paper's practical version does.
 */

/** Count, sum and sum of squares of a metric in one arm: enough for its mean and variance, and exact to aggregate. */
export interface ArmSummary {
  count: number;
  sum: number;
  sumOfSquares: number;
}

export interface GuardrailInput {
  treatment: ArmSummary;
  control: ArmSummary;
  /** The worst acceptable difference (treatment − control), in the metric's unit: e.g. 0.01 for one point of error rate. */
  margin: number;
  /** The chance of a false alarm allowed over the whole release, however many looks (e.g. 0.05). */
  alpha: number;
  /** The mixing variance τ²: the scale of differences the test is tuned to find fastest (see `mixingVarianceFor`). */
  mixingVariance: number;
  /** No verdict before each arm has this many observations (normal approximation). */
  minSamples?: number;
}

export interface GuardrailVerdict {
  /** `breach`: the treatment is worse than control by more than the margin, with always-valid confidence 1 − α. */
  verdict: 'breach' | 'no-breach-yet' | 'too-few-samples';
  difference: number;
  /** The likelihood ratio Λ (1 when there is nothing to judge). */
  likelihoodRatio: number;
  /**
   * At this look, min(1, 1/Λ) when the treatment is worse than the margin, else 1; the caller keeps the running minimum
   * across looks: the always-valid p-value of "no worse than the margin".
   */
  pValue: number;
  treatmentMean: number;
  controlMean: number;
}

export function meanAndVariance(arm: ArmSummary): { mean: number; variance: number } {
  if (arm.count === 0) return { mean: 0, variance: 0 };
  const mean = arm.sum / arm.count;
  // The sample variance (n − 1), never negative through rounding.
  const variance = arm.count > 1 ? Math.max(0, (arm.sumOfSquares - arm.count * mean * mean) / (arm.count - 1)) : 0;
  return { mean, variance };
}

/** Λ of the mSPRT for an observed difference, its variance, the margin and the mixing variance (the formula above). */
export function mixtureLikelihoodRatio(difference: number, variance: number, margin: number, mixingVariance: number): number {
  const total = variance + mixingVariance;
  return Math.sqrt(variance / total) * Math.exp((mixingVariance * (difference - margin) ** 2) / (2 * variance * total));
}

/**
 * A mixing variance suited to differences of the size of `margin`: the paper's advice is a τ² of the order of the
 * squared effects one expects to see; the square of the margin (a harm as large as the margin is what matters).
 */
export const mixingVarianceFor = (margin: number, floor = 1e-6) => Math.max(margin * margin, floor);

export function judgeGuardrail(input: GuardrailInput): GuardrailVerdict {
  const treatment = meanAndVariance(input.treatment);
  const control = meanAndVariance(input.control);
  const difference = treatment.mean - control.mean;
  const base = { difference, treatmentMean: treatment.mean, controlMean: control.mean };
  const minSamples = input.minSamples ?? 100;
  if (input.treatment.count < minSamples || input.control.count < minSamples) {
    return { ...base, verdict: 'too-few-samples', likelihoodRatio: 1, pValue: 1 };
  }
  const variance = treatment.variance / input.treatment.count + control.variance / input.control.count;
  if (variance === 0) {
    // Both arms constant: the difference is known exactly.
    const breach = difference > input.margin;
    return { ...base, verdict: breach ? 'breach' : 'no-breach-yet', likelihoodRatio: breach ? Infinity : 1, pValue: breach ? 0 : 1 };
  }
  const likelihoodRatio = mixtureLikelihoodRatio(difference, variance, input.margin, input.mixingVariance);
  const harmful = difference > input.margin;
  // Λ grows with evidence of a difference other than the margin, in either direction; only more harm than the margin
  // is evidence against "no worse than the margin", so a difference below it is p = 1 (holding, however clearly).
  const pValue = harmful ? Math.min(1, 1 / likelihoodRatio) : 1;
  const breach = harmful && likelihoodRatio >= 1 / input.alpha;
  return { ...base, verdict: breach ? 'breach' : 'no-breach-yet', likelihoodRatio, pValue };
}
