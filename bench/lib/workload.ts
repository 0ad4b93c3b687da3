/**
 * The workload of the HTTP benchmarks, in both products' models: 50 flags, each a 50% rollout on the user id with
 * `country in [BR, US]`, on every other flag also `appVersion semver > 1.2.0`, two variants, and on ten of them a
 * segment (`plan in [pro, enterprise]`); and 10,000 deterministic user contexts.
 *
 * Each product gets its natural form of that flag:
 * - ToggleMaster: a string flag with variants `control` and `treatment`, enabled in `production`, serving `control`
 *   by default; one rule with the conditions (and the segment) serving a 50/50 rollout of the two variants,
 *   bucketed on the targeting key (the user id).
 * - Unleash: a feature in the `default` project with one `flexibleRollout` strategy (rollout 50, stickiness userId)
 *   carrying the same constraints (and segment) and the two variants as strategy variants (50/50, stickiness userId).
 */
import type { Condition } from '../../shared/contracts/targeting-model.ts';

export const flagCount = 50;
export const segmentedFlags = 10;
export const segmentKey = 'bench-premium';
export const flagKeys = Array.from({ length: flagCount }, (_, i) => `bench-flag-${i}`);
/** The flag of the one-flag benchmarks: it has every kind of condition and the segment. */
export const singleFlag = 'bench-flag-0';

const hasSemver = (i: number) => i % 2 === 0;
const hasSegment = (i: number) => i < segmentedFlags;

export const segmentConditions: Condition[] = [{ attribute: 'plan', operator: 'in', values: ['pro', 'enterprise'] }];

export function conditionsOf(i: number): Condition[] {
  return [
    { attribute: 'country', operator: 'in', values: ['BR', 'US'] },
    ...(hasSemver(i) ? [{ attribute: 'appVersion', operator: 'semver_gt', values: ['1.2.0'] } satisfies Condition] : []),
  ];
}

// ---------------------------------------------------------------------------------------------------------------
// ToggleMaster (through its flags and targeting APIs).
export const environment = 'production';

export function ourFlag(key: string) {
  return {
    key,
    name: key,
    type: 'string',
    variants: [
      { key: 'control', value: 'control' },
      { key: 'treatment', value: 'treatment' },
    ],
    environments: { [environment]: { enabled: true, offVariant: 'control', defaultServe: { variant: 'control' } } },
  };
}

export function ourRule(key: string, i: number) {
  return {
    flagKey: key,
    environment,
    name: '50% rollout',
    conditions: conditionsOf(i),
    ...(hasSegment(i) ? { segments: [segmentKey] } : {}),
    serve: {
      rollout: [
        { variant: 'treatment', weight: 50 },
        { variant: 'control', weight: 50 },
      ],
    },
  };
}

export const ourSegment = { key: segmentKey, name: 'Premium plans', conditions: segmentConditions };

// ---------------------------------------------------------------------------------------------------------------
// Unleash (through its admin API).
const unleashOperator = { in: 'IN', semver_gt: 'SEMVER_GT' } as const;

function unleashConstraint(condition: Condition) {
  const operator = unleashOperator[condition.operator as keyof typeof unleashOperator];
  const values = condition.values.map(String);
  return operator === 'IN'
    ? { contextName: condition.attribute, operator, values, inverted: false, caseInsensitive: false }
    : { contextName: condition.attribute, operator, value: values[0], inverted: false, caseInsensitive: false };
}

export const unleashSegment = { name: segmentKey, constraints: segmentConditions.map(unleashConstraint) };

export function unleashStrategy(key: string, i: number, segmentId: number) {
  const variant = (name: string) => ({
    name,
    weight: 500,
    weightType: 'variable',
    stickiness: 'userId',
    payload: { type: 'string', value: name },
  });
  return {
    name: 'flexibleRollout',
    parameters: { rollout: '50', stickiness: 'userId', groupId: key },
    constraints: conditionsOf(i).map(unleashConstraint),
    segments: hasSegment(i) ? [segmentId] : [],
    variants: [variant('control'), variant('treatment')],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Contexts: one fixed user that passes every condition, and 10,000 rotating users (deterministic, mulberry32).
export interface BenchContext {
  targetingKey: string;
  country: string;
  appVersion: string;
  plan: string;
}

export const fixedContext: BenchContext = { targetingKey: 'user-42', country: 'BR', appVersion: '2.0.0', plan: 'pro' };

/** A seeded generator (mulberry32): the same contexts on every run. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function rotatingContexts(count = 10_000): BenchContext[] {
  const next = random(20_250_301);
  const pick = (yes: string[], no: string[], pYes: number) => {
    const list = next() < pYes ? yes : no;
    return list[Math.floor(next() * list.length)]!;
  };
  return Array.from({ length: count }, (_, i) => ({
    targetingKey: `user-${i}-${Math.floor(next() * 1e9).toString(36)}`,
    country: pick(['BR', 'US'], ['DE', 'FR', 'JP'], 0.8),
    appVersion: pick(['1.2.1', '1.3.0', '2.0.0'], ['1.0.0', '1.2.0'], 0.8),
    plan: pick(['pro', 'enterprise'], ['free', 'starter'], 0.7),
  }));
}

/** The context as query parameters: ToggleMaster's bulk GET (targetingKey) or Unleash's frontend API (userId). */
export function contextQuery(context: BenchContext, userKey: 'targetingKey' | 'userId'): string {
  return new URLSearchParams({
    [userKey]: context.targetingKey,
    country: context.country,
    appVersion: context.appVersion,
    plan: context.plan,
  }).toString();
}

// ---------------------------------------------------------------------------------------------------------------
// The dataset shapes Unleash Edge publishes its figures for (github.com/Unleash/unleash-edge, docs/benchmarking.md):
// "roughly 100kB (350 features / 200 strategies)" and "5 features with one strategy on each". Each in a project of
// its own, with an SDK key of that project, so the 50-flag workload is not disturbed. Flags as above (two variants,
// a 50/50 rollout rule with `country in [BR, US]`), the rule on the first `rules` flags only.
export interface EdgeShape {
  name: string;
  project: string;
  flags: number;
  rules: number;
  /** Edge's published /api/frontend figure for this shape on 1 CPU (req/s). */
  edgePerCpu: number;
}

export const edgeShapes: EdgeShape[] = [
  {
    name: '350 flags (Edge: ~100 KB, 350 features / 200 strategies)',
    project: 'bench-edge-large',
    flags: 350,
    rules: 200,
    edgePerCpu: 6_900,
  },
  { name: '5 flags (Edge: ~2 KB, 5 features)', project: 'bench-edge-small', flags: 5, rules: 5, edgePerCpu: 39_000 },
];

export const edgeFlagKey = (shape: EdgeShape, i: number) => `${shape.project}-${i}`;

export function edgeRule(key: string) {
  return {
    flagKey: key,
    environment,
    name: '50% rollout',
    conditions: [{ attribute: 'country', operator: 'in', values: ['BR', 'US'] }],
    serve: {
      rollout: [
        { variant: 'treatment', weight: 50 },
        { variant: 'control', weight: 50 },
      ],
    },
  };
}
