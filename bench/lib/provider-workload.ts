/**
 * The flag sets of the provider benchmark (bench/engine/provider-throughput.bench.ts), each in both models: a
 * ToggleMaster configuration document (what `GET /sdk/v1/configuration` answers, the provider's `bootstrap`) and
 * unleash-client bootstrap data, with the contexts in both shapes.
 *
 * - `one`: the engine benchmark's flag (bench/engine/engine.bench.ts), one boolean flag with 5 conditions (country in
 *   [BR, US], appVersion semver_gt 1.2.0, plan in [pro, enterprise], email ends_with @example.com, age gte 18), a
 *   segment (tier in [gold, platinum]) and a 50% rollout on the user id; its 10,000 contexts (same seed, same draw).
 * - `fifty`: the HTTP benchmark's 50 flags (bench/lib/workload.ts: `country in [BR, US]`, on every other flag
 *   `appVersion semver_gt 1.2.0`, on ten of them the segment `plan in [pro, enterprise]`, a 50% rollout on the user
 *   id) as boolean flags — on/off rather than two string variants, since `getBooleanValue` and `isEnabled` are what is
 *   compared —, with that benchmark's 10,000 rotating contexts; evaluation i asks flag i mod 50 for context i.
 *
 * Each flag has a twin at 100% (`<key>-targeted`), only for the agreement check: it says whether a context passes the
 * targeting, so the check can hold both sides to "targeted, and in the first half of its own hash".
 */
import type { ConfigurationDocument, FlagConfiguration, Segment } from '../../packages/openfeature-provider/src/index.ts';
import type { Condition } from '../../shared/contracts/targeting-model.ts';
import { conditionsOf, flagCount, random, rotatingContexts } from './workload.ts';
import type { UnleashContext } from './unleash-offline.ts';

export type { UnleashContext };

export interface UnleashConstraint {
  contextName: string;
  operator: string;
  values?: string[];
  value?: string;
  inverted: boolean;
  caseInsensitive: boolean;
}
export interface UnleashSegment {
  id: number;
  name: string;
  constraints: UnleashConstraint[];
}
export interface UnleashFeature {
  name: string;
  type: string;
  enabled: boolean;
  project: string;
  stale: boolean;
  impressionData: boolean;
  variants: never[];
  strategies: {
    name: string;
    parameters: Record<string, string>;
    constraints: UnleashConstraint[];
    segments: number[];
  }[];
}

/** One context, as ToggleMaster reads it (flat, `targetingKey`) and as unleash-client does (`userId`, `properties`). */
export type OurContext = { targetingKey: string } & Record<string, string | number>;

export interface FlagSet {
  name: 'one' | 'fifty';
  description: string;
  /** The flags timed, in the order evaluation i asks flag i mod length. */
  timedKeys: string[];
  /** The provider's bootstrap: the timed flags and their 100% twins, the segment. */
  document: ConfigurationDocument;
  unleash: { features: UnleashFeature[]; segments: UnleashSegment[] };
  ours: OurContext[];
  theirs: UnleashContext[];
}

export const targetedKeyOf = (key: string) => `${key}-targeted`;

const unleashOperators: Partial<Record<Condition['operator'], string>> = {
  in: 'IN',
  semver_gt: 'SEMVER_GT',
  ends_with: 'STR_ENDS_WITH',
  gte: 'NUM_GTE',
};

function unleashConstraint(condition: Condition): UnleashConstraint {
  const operator = unleashOperators[condition.operator];
  if (operator === undefined) throw new Error(`no unleash operator for ${condition.operator}`);
  const values = condition.values.map(String);
  // unleash-client's IN and STR_* operators read `values`; SEMVER_* and NUM_* read `value`.
  return operator === 'IN' || operator.startsWith('STR_')
    ? { contextName: condition.attribute, operator, values, inverted: false, caseInsensitive: false }
    : { contextName: condition.attribute, operator, value: values[0]!, inverted: false, caseInsensitive: false };
}

function ourFlag(key: string, conditions: Condition[], segments: string[], onWeight: number): FlagConfiguration {
  return {
    key,
    type: 'boolean',
    salt: key,
    version: 1,
    variants: [
      { key: 'on', value: true },
      { key: 'off', value: false },
    ],
    state: { enabled: true, offVariant: 'off', defaultServe: { variant: 'off' }, prerequisites: [] },
    rules: [
      {
        id: `${key}-rule`,
        flagKey: key,
        environment: 'production',
        priority: 1,
        name: 'Targeted rollout',
        conditions,
        segments,
        serve: {
          rollout: [
            { variant: 'on', weight: onWeight },
            { variant: 'off', weight: 100 - onWeight },
          ],
        },
      },
    ],
  };
}

function unleashFeature(name: string, groupId: string, conditions: Condition[], segments: number[], rollout: number): UnleashFeature {
  return {
    name,
    type: 'release',
    enabled: true,
    project: 'default',
    stale: false,
    impressionData: false,
    variants: [],
    strategies: [
      {
        name: 'flexibleRollout',
        parameters: { rollout: String(rollout), stickiness: 'userId', groupId },
        constraints: conditions.map(unleashConstraint),
        segments,
      },
    ],
  };
}

function segmentOf(key: string, name: string, conditions: Condition[]): { ours: Segment; theirs: UnleashSegment } {
  return {
    ours: { key, name, description: name, conditions, included: [], excluded: [] },
    theirs: { id: 1, name: key, constraints: conditions.map(unleashConstraint) },
  };
}

/** Both models of a list of flags: each timed flag (50%) and its twin (100%); the twin's split is never reached. */
function bothModels(
  flags: { key: string; conditions: Condition[]; segmented: boolean }[],
  segment: { ours: Segment; theirs: UnleashSegment },
): Pick<FlagSet, 'document' | 'unleash' | 'timedKeys'> {
  const ourFlags: FlagConfiguration[] = [];
  const features: UnleashFeature[] = [];
  for (const { key, conditions, segmented } of flags) {
    const ourSegments = segmented ? [segment.ours.key] : [];
    const theirSegments = segmented ? [segment.theirs.id] : [];
    ourFlags.push(ourFlag(key, conditions, ourSegments, 50), ourFlag(targetedKeyOf(key), conditions, ourSegments, 100));
    features.push(
      unleashFeature(key, key, conditions, theirSegments, 50),
      unleashFeature(targetedKeyOf(key), key, conditions, theirSegments, 100),
    );
  }
  return {
    timedKeys: flags.map((f) => f.key),
    document: { environment: 'production', flags: ourFlags, segments: [segment.ours] },
    unleash: { features, segments: [segment.theirs] },
  };
}

/** The engine benchmark's flag and contexts (bench/engine/engine.bench.ts: same conditions, same seed, same draw). */
export function oneFlagSet(): FlagSet {
  const conditions: Condition[] = [
    { attribute: 'country', operator: 'in', values: ['BR', 'US'] },
    { attribute: 'appVersion', operator: 'semver_gt', values: ['1.2.0'] },
    { attribute: 'plan', operator: 'in', values: ['pro', 'enterprise'] },
    { attribute: 'email', operator: 'ends_with', values: ['@example.com'] },
    { attribute: 'age', operator: 'gte', values: [18] },
  ];
  const segment = segmentOf('premium-tier', 'Premium tier', [{ attribute: 'tier', operator: 'in', values: ['gold', 'platinum'] }]);
  const models = bothModels([{ key: 'bench-flag', conditions, segmented: true }], segment);

  function pick<T>(next: () => number, yes: readonly T[], no: readonly T[], pYes = 0.9): T {
    const list = next() < pYes ? yes : no;
    return list[Math.floor(next() * list.length)] as T;
  }
  const next = random(20_250_301);
  const ours: OurContext[] = [];
  const theirs: UnleashContext[] = [];
  for (let i = 0; i < 10_000; i++) {
    const userId = `user-${i.toString(36)}-${Math.floor(next() * 1e9).toString(36)}`;
    const properties = {
      country: pick(next, ['BR', 'US'], ['DE', 'FR', 'JP']),
      appVersion: pick(next, ['1.2.1', '1.3.0', '2.0.0', '2.1.0-beta.1'], ['1.0.0', '1.2.0', '1.1.9']),
      plan: pick(next, ['pro', 'enterprise'], ['free', 'starter']),
      email: `${userId}${pick(next, ['@example.com'], ['@example.org', '@mail.test'])}`,
      age: Math.floor(pick(next, [18 + next() * 60], [10 + next() * 8])),
      tier: pick(next, ['gold', 'platinum'], ['silver', 'bronze']),
    };
    ours.push({ targetingKey: userId, ...properties });
    theirs.push({ userId, properties });
  }
  return {
    name: 'one',
    description: "one flag (the engine benchmark's: 5 conditions + a segment + 50% rollout), 10,000 rotating contexts",
    ...models,
    ours,
    theirs,
  };
}

/** The HTTP benchmark's 50 flags (bench/lib/workload.ts) as boolean flags, with its 10,000 rotating contexts. */
export function fiftyFlagSet(): FlagSet {
  const segment = segmentOf('bench-premium', 'Premium plans', [{ attribute: 'plan', operator: 'in', values: ['pro', 'enterprise'] }]);
  const models = bothModels(
    Array.from({ length: flagCount }, (_, i) => ({ key: `bench-flag-${i}`, conditions: conditionsOf(i), segmented: i < 10 })),
    segment,
  );
  const contexts = rotatingContexts(10_000);
  return {
    name: 'fifty',
    description: "the HTTP benchmark's 50 flags as booleans (1–2 conditions, 10 with a segment, 50% rollout), flag i mod 50 for context i",
    ...models,
    ours: contexts.map((c) => ({ ...c })),
    theirs: contexts.map(({ targetingKey, ...properties }) => ({ userId: targetingKey, properties })),
  };
}
