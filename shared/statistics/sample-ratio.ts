/**
 * Sample ratio mismatch: were users split as the weights say? A split that is off (a bug in an SDK's caching, a
 * variant that crashes before it is counted) makes every comparison between the arms meaningless, so a guardrail is
 * not judged — the release is stopped — when the counts per variant fit the weights too badly to be chance.
 *
 * Pearson's χ² goodness-of-fit test: χ² = Σ (observed − expected)² / expected over the variants, with k − 1 degrees
 * of freedom; the p-value is the χ² distribution's upper tail, P(X ≥ χ²) = Q((k − 1)/2, χ²/2), the regularized upper
 * incomplete gamma function (computed as in Numerical Recipes, 3rd ed., §6.2: a series below a + 1, a continued
 * fraction above). The usual threshold is strict (p < 0.001): a real split seldom fails it, a broken one fails it fast.
 */

const lnGamma = (z: number): number => {
  // Lanczos approximation (g = 7, n = 9), accurate to ~15 digits for z > 0.
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  const x = z - 1;
  let sum = c[0]!;
  for (let i = 1; i < 9; i++) sum += c[i]! / (x + i);
  const t = x + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
};

/** Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma function. */
export function upperRegularizedGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefactor = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    // P(a, x) by its series; Q = 1 − P.
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000 && Math.abs(term) > Math.abs(sum) * 1e-16; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return Math.max(0, 1 - sum * Math.exp(logPrefactor));
  }
  // Q(a, x) by its continued fraction (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.exp(logPrefactor) * h);
}

/** P(X ≥ statistic) for X χ²-distributed with `degreesOfFreedom`. */
export const chiSquareUpperTail = (statistic: number, degreesOfFreedom: number) =>
  upperRegularizedGamma(degreesOfFreedom / 2, statistic / 2);

export interface SampleRatioCheck {
  statistic: number;
  degreesOfFreedom: number;
  pValue: number;
  /** True when the split is too far from the weights to be chance (p below the threshold). */
  mismatch: boolean;
}

/** Observed counts per variant against the weights they were served with (any positive scale). */
export function checkSampleRatio(observed: Record<string, number>, weights: Record<string, number>, threshold = 0.001): SampleRatioCheck {
  const variants = Object.keys(weights).filter((v) => (weights[v] ?? 0) > 0);
  const total = variants.reduce((n, v) => n + (observed[v] ?? 0), 0);
  const weightSum = variants.reduce((n, v) => n + weights[v]!, 0);
  if (variants.length < 2 || total === 0) return { statistic: 0, degreesOfFreedom: 0, pValue: 1, mismatch: false };
  let statistic = 0;
  for (const variant of variants) {
    const expected = (total * weights[variant]!) / weightSum;
    statistic += ((observed[variant] ?? 0) - expected) ** 2 / expected;
  }
  const degreesOfFreedom = variants.length - 1;
  const pValue = chiSquareUpperTail(statistic, degreesOfFreedom);
  return { statistic, degreesOfFreedom, pValue, mismatch: pValue < threshold };
}
