/**
 * Sample ratio mismatch: were users split as the weights say? A split that is off (a bug in an SDK's caching, a
 * variant that crashes before it is counted) makes every comparison between the arms meaningless, so a release is
 * stopped — not judged — when the counts per variant fit the weights too badly to be chance.
 *
 * The counts are looked at again and again while a release runs, so a fixed-horizon test (Pearson's χ² at each look)
 * would raise false alarms far more often than its threshold says (the tests measure it). The test here stays valid
 * however often it is looked at: the sequential test of Lindon & Malek, "Anytime-Valid Inference for Multinomial
 * Count Data" (NeurIPS 2022). Against the multinomial of the weights p, a Dirichlet(α) mixture of multinomials gives
 * the Bayes factor
 *
 *   BF = Γ(Σα) / Γ(Σα + n) · Π Γ(αᵢ + xᵢ) / Γ(αᵢ) / Π pᵢ^xᵢ
 *
 * for the counts x (n in all). Under the weights it is a nonnegative martingale of mean 1, so by Ville's inequality
 * the chance that it ever reaches 1/threshold is at most the threshold; 1/BF is an always-valid p-value. αᵢ = k·pᵢ: a
 * prior centred on the weights, with k (the concentration) setting the size of the deviations found fastest.
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

export interface SampleRatioCheck {
  /** The Bayes factor against the weights (1 when there is nothing to judge). */
  bayesFactor: number;
  /** min(1, 1/BF): an always-valid p-value. */
  pValue: number;
  /** True when the split is too far from the weights to be chance (p below the threshold). */
  mismatch: boolean;
}

/**
 * Observed counts per variant against the weights they were served with (any positive scale). Variants of weight 0
 * are not judged (nothing was meant to reach them).
 */
export function checkSampleRatio(
  observed: Record<string, number>,
  weights: Record<string, number>,
  options: { threshold?: number; concentration?: number } = {},
): SampleRatioCheck {
  const threshold = options.threshold ?? 0.001;
  const concentration = options.concentration ?? 100;
  const variants = Object.keys(weights).filter((v) => (weights[v] ?? 0) > 0);
  const weightSum = variants.reduce((n, v) => n + weights[v]!, 0);
  const total = variants.reduce((n, v) => n + (observed[v] ?? 0), 0);
  if (variants.length < 2 || total === 0) return { bayesFactor: 1, pValue: 1, mismatch: false };
  let logFactor = lnGamma(concentration) - lnGamma(concentration + total);
  for (const variant of variants) {
    const p = weights[variant]! / weightSum;
    const x = observed[variant] ?? 0;
    const a = concentration * p;
    logFactor += lnGamma(a + x) - lnGamma(a) - x * Math.log(p);
  }
  const bayesFactor = Math.exp(logFactor);
  const pValue = Math.min(1, Math.exp(-logFactor));
  return { bayesFactor, pValue, mismatch: pValue < threshold };
}
