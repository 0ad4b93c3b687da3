import { describe, expect, it } from 'vitest';
import { checkSampleRatio } from './sample-ratio.ts';
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

describe('the sample ratio test (always valid)', () => {
  it('computes the Bayes factor by its formula: worked by hand for 50/50 weights and a Dirichlet(1, 1) prior', () => {
    // BF = Γ(2)/Γ(6) · Γ(4)Γ(2)/(Γ(1)Γ(1)) / 0.5⁴ = (1/120) · 6 · 16 = 0.8
    expect(checkSampleRatio({ a: 3, b: 1 }, { a: 50, b: 50 }, { concentration: 2 }).bayesFactor).toBeCloseTo(0.8, 10);
    // BF = Γ(2)/Γ(12) · Γ(11)/Γ(1) / 0.5¹⁰ = 2¹⁰ / 11
    const lopsided = checkSampleRatio({ a: 10, b: 0 }, { a: 50, b: 50 }, { concentration: 2 });
    expect(lopsided.bayesFactor).toBeCloseTo(1024 / 11, 8);
    expect(lopsided.pValue).toBeCloseTo(11 / 1024, 10);
  });

  it('accepts a fair 50/50 split and a fair 90/10 one, and flags a split that is off', () => {
    expect(checkSampleRatio({ on: 5_030, off: 4_970 }, { on: 50, off: 50 }).mismatch).toBe(false);
    expect(checkSampleRatio({ on: 1_010, off: 8_990 }, { on: 10, off: 90 }).mismatch).toBe(false);
    const off = checkSampleRatio({ on: 5_300, off: 4_700 }, { on: 50, off: 50 });
    expect(off.mismatch).toBe(true);
    expect(off.pValue).toBeLessThan(1e-6);
    // A variant of weight 0 is not judged; nothing to judge is no mismatch.
    expect(checkSampleRatio({ on: 10, off: 0, old: 3 }, { on: 100, off: 0 }).mismatch).toBe(false);
  });

  /** 200 splits drawn with `truth` as the share of `on`, looked at every 200 evaluations up to 20,000. */
  function peeked(truth: number, threshold: number, seed: number) {
    const next = random(seed);
    let alarms = 0;
    let chiSquareAlarms = 0;
    for (let run = 0; run < 200; run++) {
      const counts = { on: 0, off: 0 };
      let alarmed = false;
      let chiSquareAlarmed = false;
      for (let n = 1; n <= 20_000; n++) {
        counts[next() < truth ? 'on' : 'off'] += 1;
        if (n % 200 !== 0) continue;
        if (!alarmed && checkSampleRatio(counts, { on: 50, off: 50 }, { threshold }).mismatch) alarmed = true;
        // Pearson's χ² with one degree of freedom is z²; z > 1.96 is its 5 % threshold.
        if (Math.abs(counts.on - n / 2) / Math.sqrt(n / 4) > 1.96) chiSquareAlarmed = true;
      }
      if (alarmed) alarms += 1;
      if (chiSquareAlarmed) chiSquareAlarms += 1;
    }
    return { rate: alarms / 200, chiSquareRate: chiSquareAlarms / 200 };
  }

  it('raises a false alarm in at most its threshold of splits however often it is looked at — where χ² does not', () => {
    const fair = peeked(0.5, 0.05, 11);
    expect(fair.rate).toBeLessThanOrEqual(0.05);
    // The same splits judged by χ² at 5 % at each of the 100 looks: a false alarm in far more than 5 % of them.
    expect(fair.chiSquareRate).toBeGreaterThan(0.2);
  });

  it('finds a split that is off by 3 points within 20,000 evaluations, at its production threshold', () => {
    expect(peeked(0.53, 0.001, 12).rate).toBeGreaterThanOrEqual(0.95);
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
