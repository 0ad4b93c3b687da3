import fc from 'fast-check';
import type { EnvironmentState, FlagDocument, FlagType, Serve, Variant } from '../../../shared/contracts/flag-model.ts';
import { operators, type Condition, type Rule, type Segment } from '../../../shared/contracts/targeting-model.ts';
import { flagDocument } from '../../../shared/testing/flags-client.ts';
import type { Seed } from './evaluation-service.ts';

const environment = 'development';

/** The demo workspace of handlers/all-in-one/seed.ts (its flags, segment and rules in development), as the caches hold it. */
export function demoSeed(): Seed {
  const onOff = { enabled: true, offVariant: 'off', defaultServe: { variant: 'off' }, prerequisites: [] };
  const flags = [
    flagDocument('new-checkout', { environments: { [environment]: onOff } }),
    flagDocument('banner-color', {
      type: 'string',
      variants: [
        { key: 'blue', value: '#1e6bd6', name: 'Blue' },
        { key: 'green', value: '#1f9d55', name: 'Green' },
      ],
      environments: {
        [environment]: {
          enabled: true,
          offVariant: 'blue',
          defaultServe: {
            rollout: [
              { variant: 'blue', weight: 50 },
              { variant: 'green', weight: 50 },
            ],
          },
          prerequisites: [],
        },
      },
    }),
    flagDocument('search-page-size', {
      type: 'number',
      variants: [
        { key: 'small', value: 10 },
        { key: 'large', value: 50 },
      ],
      environments: { [environment]: { enabled: false, offVariant: 'small', defaultServe: { variant: 'small' }, prerequisites: [] } },
    }),
  ];
  const rule = (id: string, priority: number, name: string, conditions: Condition[], serve: Serve): Rule => ({
    id,
    flagKey: 'new-checkout',
    environment,
    priority,
    name,
    conditions,
    segments: [],
    serve,
  });
  return {
    flags,
    segments: [
      {
        key: 'beta-testers',
        name: 'Beta testers',
        description: 'People who asked for early features',
        included: ['user-1', 'user-2'],
        excluded: [],
        conditions: [{ attribute: 'email', operator: 'ends_with', values: ['@togglemaster.local'] }],
      },
    ],
    rules: [
      {
        environment,
        flagKey: 'new-checkout',
        rules: [
          rule(
            '00000000-0000-4000-8000-000000000001',
            1,
            'Beta testers',
            [{ attribute: 'targetingKey', operator: 'in_segment', values: ['beta-testers'] }],
            {
              variant: 'on',
            },
          ),
          rule(
            '00000000-0000-4000-8000-000000000002',
            2,
            'Brazil and the US, half of them',
            [{ attribute: 'country', operator: 'in', values: ['BR', 'US'] }],
            {
              rollout: [
                { variant: 'on', weight: 50 },
                { variant: 'off', weight: 50 },
              ],
            },
          ),
        ],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// A generated workspace: 200 flags of every type, with rules over every operator, segments (some reading other
// segments), splits (some on another attribute than the targeting key) and prerequisites.

export const targetingKeys = Array.from({ length: 40 }, (_, i) => `user-${i}`);
export const countries = ['BR', 'US', 'PT', 'DE', 'JP', 'br', ''];
export const plans = ['free', 'pro', 'enterprise'];
export const appVersions = ['1.0.0', '1.2.0', 'v2.0.0', '2.0.0-beta.1', '10.1.3', 'not-a-version'];
export const dates = ['2024-12-31', '2025-01-01T00:00:00Z', '2025-06-01T12:30:00+02:00', '2026-02-30', 'yesterday'];
export const emails = ['ana@example.com', 'bob@togglemaster.local', 'cid@corp.example', ''];
const attributes = ['country', 'plan', 'age', 'app', 'signup', 'email', 'account.tier', 'account.id', 'targetingKey', 'beta'];

const scalar: fc.Arbitrary<string | number | boolean> = fc.oneof(
  fc.constantFrom(...countries.filter(Boolean), ...plans, ...appVersions.slice(0, 4), ...dates.slice(0, 3), ...targetingKeys.slice(0, 8)),
  fc.constantFrom('@example.com', '@togglemaster.local', '^user-1', 'a.*z', '[', '18', '2.5', 'true'),
  fc.integer({ min: 0, max: 80 }),
  fc.boolean(),
);

function conditionArbitrary(segmentKeys: string[]): fc.Arbitrary<Condition> {
  return fc
    .record({
      attribute: fc.constantFrom(...attributes),
      operator: fc.constantFrom(...operators),
      values: fc.array(scalar, { minLength: 1, maxLength: 3 }),
      negate: fc.option(fc.boolean(), { nil: undefined }),
    })
    .map(({ negate, ...c }) => {
      const condition: Condition = negate === undefined ? c : { ...c, negate };
      if (c.operator === 'in_segment' || c.operator === 'not_in_segment')
        return { ...condition, values: segmentKeys.length > 0 ? [segmentKeys[c.values.length % segmentKeys.length]!] : ['ghost'] };
      if (c.operator === 'exists' || c.operator === 'not_exists') return { ...condition, values: [] };
      return condition;
    });
}

/** Weights of `n` slices totalling exactly 100, some with three decimals. */
function weights(n: number): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: n - 1, maxLength: n - 1 }).map((cuts) => {
    const sorted = [0, ...cuts.sort((a, b) => a - b), 100_000];
    return sorted.slice(1).map((end, i) => (end - sorted[i]!) / 1000);
  });
}

function serveArbitrary(variantKeys: string[]): fc.Arbitrary<Serve> {
  return fc.oneof(
    fc.constantFrom(...variantKeys).map((variant) => ({ variant })),
    fc
      .record({
        slices: fc.shuffledSubarray(variantKeys, { minLength: 1 }),
        bucketBy: fc.constantFrom(undefined, undefined, undefined, 'account.id', 'company'),
      })
      .chain(({ slices, bucketBy }) =>
        weights(slices.length).map((w): Serve => {
          const rollout = slices.map((variant, i) => ({ variant, weight: w[i]! }));
          return bucketBy ? { rollout, bucketBy } : { rollout };
        }),
      ),
  );
}

function variantsOf(type: FlagType, n: number): Variant[] {
  const value = (i: number): unknown => {
    switch (type) {
      case 'boolean':
        return i === 0;
      case 'string':
        return `value-${i}`;
      case 'number':
        return i * 10 + 0.5;
      case 'json':
        return { variant: i, list: [i, `${i}`], nested: { on: i % 2 === 0 } };
    }
  };
  const count = type === 'boolean' ? 2 : n;
  return Array.from({ length: count }, (_, i) => ({ key: type === 'boolean' ? (i === 0 ? 'on' : 'off') : `v${i}`, value: value(i) }));
}

/** A seeded, reproducible workspace of `count` flags and 12 segments in development. */
export function generatedSeed(count = 200, seed = 16): Seed {
  const segmentKeys = Array.from({ length: 12 }, (_, i) => `segment-${i}`);
  const segments: Segment[] = segmentKeys.map((key, i) => {
    const [conditions, included, excluded] = fc.sample(
      fc.tuple(
        // A segment may read an earlier one (never itself: no cycles of segments).
        fc.array(conditionArbitrary(segmentKeys.slice(0, i)), { maxLength: 2 }),
        fc.subarray(targetingKeys, { maxLength: 6 }),
        fc.subarray(targetingKeys, { maxLength: 2 }),
      ),
      { seed: seed * 1000 + i, numRuns: 1 },
    )[0]!;
    return { key, name: key, description: '', conditions, included, excluded };
  });
  const flags: FlagDocument[] = [];
  const rules: Seed['rules'] = [];
  const types: FlagType[] = ['boolean', 'string', 'number', 'json'];
  for (let i = 0; i < count; i++) {
    const key = `gen-${String(i).padStart(3, '0')}`;
    const [typeIndex, variantCount, enabled] = fc.sample(fc.tuple(fc.nat(3), fc.integer({ min: 2, max: 4 }), fc.nat(9)), {
      seed: seed * 100_000 + i,
      numRuns: 1,
    })[0]!;
    const type = types[typeIndex]!;
    const variants = variantsOf(type, variantCount);
    const variantKeys = variants.map((v) => v.key);
    // Prerequisites on earlier flags only (no cycles), naming one of their variants.
    const earlier = flags.slice(Math.max(0, i - 30));
    const [state, flagRules] = fc.sample(
      fc.tuple(
        fc.record({
          offVariant: fc.constantFrom(...variantKeys),
          defaultServe: serveArbitrary(variantKeys),
          prerequisites:
            earlier.length > 0 && i % 5 === 0
              ? fc
                  .subarray(earlier, { minLength: 1, maxLength: 2 })
                  .chain((parents) =>
                    fc.tuple(
                      ...parents.map((p) =>
                        fc.constantFrom(...p.variants.map((v) => v.key)).map((variant) => ({ flagKey: p.key, variant })),
                      ),
                    ),
                  )
              : fc.constant([]),
        }),
        fc.array(
          fc.record({
            conditions: fc.array(conditionArbitrary(segmentKeys), { maxLength: 2 }),
            segments: fc.subarray(segmentKeys, { maxLength: 1 }),
            serve: serveArbitrary(variantKeys),
          }),
          { maxLength: 4 },
        ),
      ),
      { seed: seed * 100_000 + 50_000 + i, numRuns: 1 },
    )[0]!;
    const environmentState: EnvironmentState = { enabled: enabled !== 0, ...state, prerequisites: [...state.prerequisites] };
    flags.push(
      flagDocument(key, { type, variants, salt: `salt-${key}`, version: 1 + (i % 3), environments: { [environment]: environmentState } }),
    );
    rules.push({
      environment,
      flagKey: key,
      rules: flagRules.map((r, priority) => ({
        id: `${key}-rule-${priority}`,
        flagKey: key,
        environment,
        priority: priority + 1,
        name: `rule ${priority}`,
        ...r,
      })),
    });
  }
  return { flags, rules, segments };
}

/** Contexts like an application's: a few attributes each, some missing, some of the wrong type or unreadable. */
export const contextArbitrary = fc.record(
  {
    targetingKey: fc.oneof(fc.constantFrom(...targetingKeys), fc.string({ maxLength: 12 })),
    country: fc.constantFrom(...countries),
    plan: fc.constantFrom(...plans),
    age: fc.oneof(fc.integer({ min: 0, max: 90 }), fc.constantFrom('18', '2.5', 'old')),
    app: fc.constantFrom(...appVersions),
    signup: fc.oneof(fc.constantFrom(...dates), fc.integer({ min: 1.6e12, max: 1.8e12 })),
    email: fc.constantFrom(...emails),
    beta: fc.boolean(),
    company: fc.constantFrom('acme', 'globex', 42, true),
    account: fc.record(
      { tier: fc.constantFrom('gold', 'silver'), id: fc.oneof(fc.constantFrom('a-1', 'a-2', 'a-3'), fc.nat(1000)) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);
