import { describe, expect, it } from 'vitest';
import { checkSampleRatio, chiSquareUpperTail, upperRegularizedGamma } from './sample-ratio.ts';
import { judgeGuardrail, meanAndVariance, mixingVarianceFor, mixtureLikelihoodRatio, type ArmSummary } from './sequential-test.ts';

/** A seeded generator (mulberry32), so the simulations below are the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const add = (arm: ArmSummary, value: number) => {
  arm.count += 1;
  arm.sum += value;
  arm.sumOfSquares += value * value;
};

describe('χ² upper tail and the incomplete gamma function', () => {
  it('matches the tables: the 5 %, 1 % and 0.1 % critical values of 1 to 4 degrees of freedom', () => {
    // Critical values from the standard χ² table (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.4).
    const table: [number, number, number][] = [
      [1, 3.841459, 0.05],
      [2, 5.991465, 0.05],
      [3, 7.814728, 0.05],
      [4, 9.487729, 0.05],
      [1, 6.634897, 0.01],
      [2, 9.21034, 0.01],
      [1, 10.827566, 0.001],
      [3, 16.266236, 0.001],
    ];
    for (const [df, x, p] of table) expect(chiSquareUpperTail(x, df)).toBeCloseTo(p, 6);
  });

  it('is exp(−x) for a = 1 and erfc(√x) for a = ½, on both sides of a + 1', () => {
    for (const x of [0.1, 0.5, 1.9, 2.5, 10]) expect(upperRegularizedGamma(1, x)).toBeCloseTo(Math.exp(-x), 12);
    // erfc(1) = 0.157299207050285 (Abramowitz and Stegun, table 7.1).
    expect(upperRegularizedGamma(0.5, 1)).toBeCloseTo(0.157299207050285, 10);
  });
});

describe('sample ratio mismatch', () => {
  it('accepts a fair 50/50 split and a fair 90/10 one, and flags a split that is off', () => {
    expect(checkSampleRatio({ on: 5_030, off: 4_970 }, { on: 50, off: 50 }).mismatch).toBe(false);
    expect(checkSampleRatio({ on: 1_010, off: 8_990 }, { on: 10, off: 90 }).mismatch).toBe(false);
    const off = checkSampleRatio({ on: 5_300, off: 4_700 }, { on: 50, off: 50 });
    // χ² = 2 · 300² / 5000 = 36 with one degree of freedom.
    expect(off.statistic).toBeCloseTo(36, 10);
    expect(off.pValue).toBeLessThan(1e-8);
    expect(off.mismatch).toBe(true);
  });
});

describe('the mSPRT guardrail test', () => {
  it('computes the likelihood ratio by its formula', () => {
    // V = 1, τ² = 1, θ̂ − θ₀ = 2: Λ = √(1/2) · e^(1·4 / (2·1·2)) = e / √2.
    expect(mixtureLikelihoodRatio(2, 1, 0, 1)).toBeCloseTo(Math.E / Math.SQRT2, 12);
    // V = 0.5, τ² = 2, θ̂ − θ₀ = 1: Λ = √(0.5/2.5) · e^(2·1 / (2·0.5·2.5)).
    expect(mixtureLikelihoodRatio(1.5, 0.5, 0.5, 2)).toBeCloseTo(Math.sqrt(0.2) * Math.exp(0.8), 12);
  });

  it('reads means and variances from counts, sums and sums of squares', () => {
    const arm: ArmSummary = { count: 0, sum: 0, sumOfSquares: 0 };
    for (const v of [2, 4, 4, 4, 5, 5, 7, 9]) add(arm, v);
    const { mean, variance } = meanAndVariance(arm);
    expect(mean).toBe(5);
    expect(variance).toBeCloseTo(32 / 7, 12);
  });

  /**
   * Error rates as 0/1 metrics, a look every 250 users per arm up to 10,000: how often is a breach declared? With
   * equal rates (no harm at all), at most α of the releases, however many looks; with the treatment 4 points worse
   * than control (margin 1 point), nearly always.
   */
  function simulate(treatmentRate: number, controlRate: number, runs: number, seed: number) {
    const next = random(seed);
    let breaches = 0;
    let samplesAtBreach = 0;
    // The fixed-horizon one-sided z-test looked at just as often: what the sequential test guards against.
    let naiveBreaches = 0;
    for (let run = 0; run < runs; run++) {
      const treatment: ArmSummary = { count: 0, sum: 0, sumOfSquares: 0 };
      const control: ArmSummary = { count: 0, sum: 0, sumOfSquares: 0 };
      let naive = false;
      for (let look = 1; look <= 40; look++) {
        for (let i = 0; i < 250; i++) {
          add(treatment, next() < treatmentRate ? 1 : 0);
          add(control, next() < controlRate ? 1 : 0);
        }
        const verdict = judgeGuardrail({ treatment, control, margin: 0.01, alpha: 0.05, mixingVariance: mixingVarianceFor(0.01) });
        const [t, c] = [treatment.sum / treatment.count, control.sum / control.count];
        const standardError = Math.sqrt((t * (1 - t)) / treatment.count + (c * (1 - c)) / control.count);
        if ((verdict.difference - 0.01) / standardError > 1.645) naive = true;
        if (verdict.verdict === 'breach') {
          breaches += 1;
          samplesAtBreach += treatment.count;
          break;
        }
      }
      if (naive) naiveBreaches += 1;
    }
    return { rate: breaches / runs, naiveRate: naiveBreaches / runs, meanSamples: breaches ? samplesAtBreach / breaches : Infinity };
  }

  it('raises a false alarm in at most α of releases without harm, looking 40 times in each', () => {
    expect(simulate(0.01, 0.01, 400, 1).rate).toBeLessThanOrEqual(0.05);
    // At the margin itself (treatment exactly 1 point worse): still at most α — where the z-test, peeked at as often,
    // raises one in about a quarter of the releases.
    const atMargin = simulate(0.02, 0.01, 400, 2);
    expect(atMargin.rate).toBeLessThanOrEqual(0.05);
    expect(atMargin.naiveRate).toBeGreaterThan(0.15);
  });

  it('catches a real harm (5 % errors against 1 %) in every release, within a few thousand users', () => {
    const { rate, meanSamples } = simulate(0.05, 0.01, 100, 3);
    expect(rate).toBe(1);
    expect(meanSamples).toBeLessThan(3_000);
  });

  it('gives no verdict before enough samples, and none for a harm within the margin', () => {
    const small = judgeGuardrail({
      treatment: { count: 50, sum: 25, sumOfSquares: 25 },
      control: { count: 50, sum: 0, sumOfSquares: 0 },
      margin: 0.01,
      alpha: 0.05,
      mixingVariance: 1e-4,
    });
    expect(small.verdict).toBe('too-few-samples');
    const better = judgeGuardrail({
      treatment: { count: 10_000, sum: 100, sumOfSquares: 100 },
      control: { count: 10_000, sum: 500, sumOfSquares: 500 },
      margin: 0.01,
      alpha: 0.05,
      mixingVariance: 1e-4,
    });
    expect(better.verdict).toBe('no-breach-yet');
  });
});
