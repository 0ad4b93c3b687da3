import fc from 'fast-check';
import murmurhash from 'murmurhash';
import { describe, expect, it } from 'vitest';
import type { FlagConfiguration } from '../contracts/evaluation-model.ts';
import { bucketCount } from '../contracts/weights.ts';
import { bucketOf, hashOf, sliceOf, thresholdsOf } from './bucketing.ts';
import { compileEnvironment } from './compile-flag.ts';
import { evaluateFlag } from './evaluate.ts';
import { flag, split } from './test-fixtures.ts';

const abc = [
  { key: 'a', value: 'A' },
  { key: 'b', value: 'B' },
  { key: 'c', value: 'C' },
];

function splitFlag(...slices: Array<[string, number]>): FlagConfiguration {
  return flag({ type: 'string', variants: abc, salt: 'exp-42', state: { defaultServe: split(...slices), offVariant: 'a' } });
}

/** Evaluates a config for many keys and returns the variant of each. */
function variantsFor(config: FlagConfiguration, keys: readonly string[]): Array<string | undefined> {
  const env = compileEnvironment({ environment: 'test', flags: [config], segments: [] });
  return keys.map((k) => evaluateFlag(env, config.key, { targetingKey: k }).variant);
}

const keys100k = fc.sample(fc.uuid(), { numRuns: 100_000, seed: 42 });

describe('the hash', () => {
  it('is MurmurHash3 x86 32-bit with seed 0 (reference vectors)', () => {
    expect(murmurhash.v3('', 0)).toBe(0);
    expect(murmurhash.v3('a', 0)).toBe(0x3c2569b2);
    expect(murmurhash.v3('hello', 0)).toBe(0x248bfa47);
    expect(murmurhash.v3('The quick brown fox jumps over the lazy dog', 0)).toBe(0x2e4ff723);
  });

  it('buckets salt/key modulo 100,000 (pinned: a dependency upgrade that changes these moves users)', () => {
    expect(hashOf('flag-salt', 'user-1')).toBe(955780214);
    expect(bucketOf('flag-salt', 'user-1')).toBe(80214);
    expect(bucketOf('new-checkout', 'alice')).toBe(33091);
    expect(bucketOf('new-checkout', 'bob')).toBe(70112);
    expect(bucketOf('new-checkout', '42')).toBe(336);
    expect(bucketOf('ünï', 'cödé')).toBe(68923);
  });

  it('gives the same hash on its buffer fast path as the package gives for the string (UTF-8, any length)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 600 }), (salt, value) => {
        expect(hashOf(salt, value)).toBe(murmurhash.v3(`${salt}/${value}`, 0));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('thresholds', () => {
  it('give each slice weight × 1000 consecutive buckets, in the listed order', () => {
    const { ends, complete } = thresholdsOf([30, 0, 70]);
    expect([...ends]).toEqual([30_000, 30_000, 100_000]);
    expect(complete).toBe(true);
    expect(sliceOf(ends, 0)).toBe(0);
    expect(sliceOf(ends, 29_999)).toBe(0);
    expect(sliceOf(ends, 30_000)).toBe(2);
    expect(sliceOf(ends, 99_999)).toBe(2);
  });

  it('handle weights with three decimals', () => {
    const { ends, complete } = thresholdsOf([33.333, 33.333, 33.334]);
    expect([...ends]).toEqual([33_333, 66_666, 100_000]);
    expect(complete).toBe(true);
  });

  it('flag weights that do not total 100', () => {
    expect(thresholdsOf([50, 40]).complete).toBe(false);
    expect(thresholdsOf([60, 60]).complete).toBe(false);
  });
});

describe('splits', () => {
  it('land within ±1% of each weight: 30/70 over 100,000 generated keys', () => {
    const variants = variantsFor(splitFlag(['a', 30], ['b', 70]), keys100k);
    const share = (v: string) => variants.filter((x) => x === v).length / keys100k.length;
    expect(share('a')).toBeGreaterThan(0.29);
    expect(share('a')).toBeLessThan(0.31);
    expect(share('b')).toBeGreaterThan(0.69);
    expect(share('b')).toBeLessThan(0.71);
  });

  it('give the same key the same variant, also from two separately compiled copies of the config', () => {
    const first = compileEnvironment({ environment: 'test', flags: [splitFlag(['a', 20], ['b', 30], ['c', 50])], segments: [] });
    const second = compileEnvironment({
      environment: 'test',
      flags: [structuredClone(splitFlag(['a', 20], ['b', 30], ['c', 50]))],
      segments: [],
    });
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (key) => {
        const once = evaluateFlag(first, 'checkout', { targetingKey: key });
        expect(evaluateFlag(first, 'checkout', { targetingKey: key })).toEqual(once);
        expect(evaluateFlag(second, 'checkout', { targetingKey: key })).toEqual(once);
        expect(once.reason).toBe('SPLIT');
      }),
      { numRuns: 2000 },
    );
  });

  it('keep everyone who was in when a rollout rises from 20% to 30%', () => {
    const sample = keys100k.slice(0, 20_000);
    const before = variantsFor(splitFlag(['a', 20], ['b', 80]), sample);
    const after = variantsFor(splitFlag(['a', 30], ['b', 70]), sample);
    let joined = 0;
    sample.forEach((_, i) => {
      if (before[i] === 'a') expect(after[i]).toBe('a');
      if (before[i] === 'b' && after[i] === 'a') joined++;
    });
    expect(joined / sample.length).toBeGreaterThan(0.09);
    expect(joined / sample.length).toBeLessThan(0.11);
  });

  it('move only the users whose bucket lies in a range that changed when one weight changes', () => {
    const weights = fc
      .array(fc.integer({ min: 0, max: 100 }), { minLength: 2, maxLength: 2 })
      .filter(([x, y]) => (x ?? 0) + (y ?? 0) <= 100);
    const sample = keys100k.slice(0, 3_000);
    fc.assert(
      fc.property(weights, weights, ([a1 = 0, b1 = 0], [a2 = 0, b2 = 0]) => {
        const before = thresholdsOf([a1, b1, 100 - a1 - b1]).ends;
        const after = thresholdsOf([a2, b2, 100 - a2 - b2]).ends;
        const oldVariants = variantsFor(splitFlag(['a', a1], ['b', b1], ['c', 100 - a1 - b1]), sample);
        const newVariants = variantsFor(splitFlag(['a', a2], ['b', b2], ['c', 100 - a2 - b2]), sample);
        sample.forEach((key, i) => {
          const bucket = bucketOf('exp-42', key);
          // A user keeps the variant unless the slice owning the bucket changed.
          if (sliceOf(before, bucket) === sliceOf(after, bucket)) expect(newVariants[i]).toBe(oldVariants[i]);
          else expect(newVariants[i]).not.toBe(oldVariants[i]);
        });
      }),
      { numRuns: 30 },
    );
  });

  it('moves only users between the two slices whose boundary moved (60/40 to 50/50 moves a 10% band, a → b)', () => {
    const sample = keys100k.slice(0, 20_000);
    const before = variantsFor(splitFlag(['a', 60], ['b', 40]), sample);
    const after = variantsFor(splitFlag(['a', 50], ['b', 50]), sample);
    const moved = sample.filter((_, i) => before[i] !== after[i]);
    expect(moved.every((key) => bucketOf('exp-42', key) >= 50_000 && bucketOf('exp-42', key) < 60_000)).toBe(true);
    expect(sample.every((_, i) => before[i] === after[i] || (before[i] === 'a' && after[i] === 'b'))).toBe(true);
    expect(moved.length / sample.length).toBeGreaterThan(0.09);
    expect(moved.length / sample.length).toBeLessThan(0.11);
  });

  it('bucket on serve.bucketBy instead of targetingKey when given', () => {
    const config = flag({
      type: 'string',
      variants: abc,
      salt: 'org-split',
      state: { defaultServe: { ...split(['a', 50], ['b', 50]), bucketBy: 'org.id' }, offVariant: 'a' },
    });
    const env = compileEnvironment({ environment: 'test', flags: [config], segments: [] });
    const members = ['u1', 'u2', 'u3', 'u4', 'u5'].map(
      (u) => evaluateFlag(env, 'checkout', { targetingKey: u, org: { id: 'acme' } }).variant,
    );
    expect(new Set(members).size).toBe(1);
    expect(members[0]).toBe(bucketOf('org-split', 'acme') < 50_000 ? 'a' : 'b');
    expect(evaluateFlag(env, 'checkout', { targetingKey: 'u1', org: { id: 7 } }).variant).toBe(
      bucketOf('org-split', '7') < 50_000 ? 'a' : 'b',
    );
  });

  it('answers TARGETING_KEY_MISSING when the bucketing attribute is missing or empty, never a throw', () => {
    const env = compileEnvironment({ environment: 'test', flags: [splitFlag(['a', 50], ['b', 50])], segments: [] });
    for (const context of [{}, { targetingKey: '' }, { targetingKey: null }]) {
      const result = evaluateFlag(env, 'checkout', context as never);
      expect(result).toMatchObject({ reason: 'ERROR', errorCode: 'TARGETING_KEY_MISSING' });
      expect(result).not.toHaveProperty('value');
    }
    expect(evaluateFlag(env, 'checkout', { targetingKey: { id: 1 } } as never)).toMatchObject({
      reason: 'ERROR',
      errorCode: 'INVALID_CONTEXT',
    });
  });

  it('uses 100,000 buckets', () => {
    expect(bucketCount).toBe(100_000);
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        (s, v) => bucketOf(s, v) >= 0 && bucketOf(s, v) < bucketCount && Number.isInteger(bucketOf(s, v)),
      ),
    );
  });
});
