/**
 * Engine benchmark: ToggleMaster's engine against unleash-client's local evaluation, same flag, same contexts,
 * same process, side by side.
 *
 *   npm install --prefix bench/peers/unleash && node bench/engine/engine.bench.ts
 *
 * The flag: 5 conditions (country in [BR, US], appVersion semver_gt 1.2.0, plan in [pro, enterprise], email
 * ends_with @example.com, age gte 18), a segment (tier in [gold, platinum]) and a 50% rollout on the user id.
 * unleash-client runs offline from bootstrap data: refreshInterval 0 (no polling), metrics off, an in-memory
 * storage provider, and a URL on 127.0.0.1 it never contacts; a trip-wire on socket connects proves that.
 * Before timing, both sides must agree on every one of the 10,000 contexts (see `checkAgreement`).
 */
import { once } from 'node:events';
import os from 'node:os';
import type { EvaluationContext, FlagConfiguration } from '../../shared/contracts/evaluation-model.ts';
import type { Condition, Segment } from '../../shared/contracts/targeting-model.ts';
import { bucketOf } from '../../shared/engine/bucketing.ts';
import { compileFlag, CompiledFlags, compileSegment, evaluateFlag, type CompiledEnvironment } from '../../shared/engine/index.ts';
import { random } from '../lib/workload.ts';
import { installNetworkTripWire, loadUnleashClient, type UnleashContext } from '../lib/unleash-offline.ts';

// Network trip-wire: any socket opened is recorded, and anything but 127.0.0.1 is refused.
const tripWire = installNetworkTripWire();
const connectAttempts = tripWire.attempts;

// ---------------------------------------------------------------------------------------------------------------
// The peer, loaded from its own folder (never a dependency of the product).
interface UnleashConstraint {
  contextName: string;
  operator: string;
  values?: string[];
  value?: string;
  inverted: boolean;
  caseInsensitive: boolean;
}
const { unleashModule, unleashUtil, unleashVersion } = loadUnleashClient();

// ---------------------------------------------------------------------------------------------------------------
// The flag, in both models.
const flagKey = 'bench-flag';
const targetedKey = 'bench-flag-targeted';

const conditions: Condition[] = [
  { attribute: 'country', operator: 'in', values: ['BR', 'US'] },
  { attribute: 'appVersion', operator: 'semver_gt', values: ['1.2.0'] },
  { attribute: 'plan', operator: 'in', values: ['pro', 'enterprise'] },
  { attribute: 'email', operator: 'ends_with', values: ['@example.com'] },
  { attribute: 'age', operator: 'gte', values: [18] },
];
const segment: Segment = {
  key: 'premium-tier',
  name: 'Premium tier',
  description: 'Gold and platinum accounts',
  conditions: [{ attribute: 'tier', operator: 'in', values: ['gold', 'platinum'] }],
  included: [],
  excluded: [],
};

function toggleMasterFlag(key: string, onWeight: number): FlagConfiguration {
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
        id: 'rule-1',
        flagKey: key,
        environment: 'bench',
        priority: 1,
        name: 'Targeted rollout',
        conditions,
        segments: [segment.key],
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

const unleashConstraints: UnleashConstraint[] = [
  { contextName: 'country', operator: 'IN', values: ['BR', 'US'], inverted: false, caseInsensitive: false },
  { contextName: 'appVersion', operator: 'SEMVER_GT', value: '1.2.0', inverted: false, caseInsensitive: false },
  { contextName: 'plan', operator: 'IN', values: ['pro', 'enterprise'], inverted: false, caseInsensitive: false },
  { contextName: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'], inverted: false, caseInsensitive: false },
  { contextName: 'age', operator: 'NUM_GTE', value: '18', inverted: false, caseInsensitive: false },
];
const unleashSegment = {
  id: 1,
  name: 'premium-tier',
  constraints: [{ contextName: 'tier', operator: 'IN', values: ['gold', 'platinum'], inverted: false, caseInsensitive: false }],
};

function unleashFeature(name: string, rollout: number) {
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
        parameters: { rollout: String(rollout), stickiness: 'userId', groupId: name },
        constraints: unleashConstraints,
        segments: [unleashSegment.id],
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// 10,000 contexts, deterministic (mulberry32), each condition holding for most of them so about half reach the split.
function pick<T>(next: () => number, yes: readonly T[], no: readonly T[], pYes = 0.9): T {
  const list = next() < pYes ? yes : no;
  return list[Math.floor(next() * list.length)] as T;
}

const contextCount = 10_000;
const next = random(20_250_301);
const ours: EvaluationContext[] = [];
const theirs: UnleashContext[] = [];
for (let i = 0; i < contextCount; i++) {
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

// ---------------------------------------------------------------------------------------------------------------
// Both engines.
const env: CompiledEnvironment = {
  flags: new CompiledFlags([compileFlag(toggleMasterFlag(flagKey, 50)), compileFlag(toggleMasterFlag(targetedKey, 100))]),
  segments: new Map([[segment.key, compileSegment(segment)]]),
};

const unleash = new unleashModule.Unleash({
  appName: 'togglemaster-engine-bench',
  url: 'http://127.0.0.1:9/api/',
  refreshInterval: 0,
  disableMetrics: true,
  metricsInterval: 0,
  storageProvider: new unleashModule.InMemStorageProvider(),
  bootstrap: { data: [unleashFeature(flagKey, 50), unleashFeature(targetedKey, 100)], segments: [unleashSegment] },
  skipInstanceCountWarning: true,
});
const warnings: string[] = [];
unleash.on('warn', (message) => warnings.push(String(message)));
unleash.on('error', (error) => warnings.push(String(error)));
await once(unleash as unknown as NodeJS.EventEmitter, 'synchronized');

// ---------------------------------------------------------------------------------------------------------------
// Fair comparison: the targeting part must agree exactly (the 100% flag), and each side's 50% answer must be exactly
// "targeted and in the first half of its own hash" (ToggleMaster: MurmurHash3 of salt/key mod 100,000 < 50,000;
// Unleash: MurmurHash3 of groupId:userId mod 100 + 1 <= 50). The hashes differ, so individual users may land in
// different halves; the work per evaluation is the same.
function checkAgreement() {
  let targeted = 0;
  let oursOn = 0;
  let theirsOn = 0;
  for (let i = 0; i < contextCount; i++) {
    const ctx = ours[i] as EvaluationContext;
    const uctx = theirs[i] as UnleashContext;
    const ourTargeted = evaluateFlag(env, targetedKey, ctx).value === true;
    const theirTargeted = unleash.isEnabled(targetedKey, uctx);
    if (ourTargeted !== theirTargeted)
      throw new Error(`targeting disagrees on context ${i}: ours ${ourTargeted}, unleash ${theirTargeted}`);
    const ourOn = evaluateFlag(env, flagKey, ctx).value === true;
    const theirOn = unleash.isEnabled(flagKey, uctx);
    const ourExpected = ourTargeted && bucketOf(flagKey, String(ctx.targetingKey)) < 50_000;
    const theirExpected = theirTargeted && unleashUtil.normalizedStrategyValue(uctx.userId, flagKey) <= 50;
    if (ourOn !== ourExpected) throw new Error(`ToggleMaster's split is not its hash on context ${i}`);
    if (theirOn !== theirExpected) throw new Error(`Unleash's split is not its hash on context ${i}`);
    if (ourTargeted) targeted++;
    if (ourOn) oursOn++;
    if (theirOn) theirsOn++;
  }
  return { targeted, oursOn, theirsOn };
}

// ---------------------------------------------------------------------------------------------------------------
// Timing: warm-up, then rounds alternating between the two sides, median of the rounds.
const perRound = 300_000;
const rounds = 7;
let sink = 0;

function runOurs(count: number): number {
  let on = 0;
  for (let i = 0; i < count; i++) {
    if (evaluateFlag(env, flagKey, ours[i % contextCount] as EvaluationContext).value === true) on++;
  }
  return on;
}
function runTheirs(count: number): number {
  let on = 0;
  for (let i = 0; i < count; i++) {
    if (unleash.isEnabled(flagKey, theirs[i % contextCount] as UnleashContext)) on++;
  }
  return on;
}
function timed(run: (count: number) => number, count: number): number {
  const start = process.hrtime.bigint();
  sink += run(count);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return count / seconds;
}
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}
const format = (n: number) => Math.round(n).toLocaleString('en-US');

const agreement = checkAgreement();
runOurs(500_000);
runTheirs(500_000);
const ourRates: number[] = [];
const theirRates: number[] = [];
for (let r = 0; r < rounds; r++) {
  ourRates.push(timed(runOurs, perRound));
  theirRates.push(timed(runTheirs, perRound));
}
unleash.destroy();
tripWire.remove();

const ourMedian = median(ourRates);
const theirMedian = median(theirRates);
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`Engine benchmark — ${new Date().toISOString()}`);
console.log(`machine: ${os.availableParallelism()} cores (${cpu}), node ${process.version}, unleash-client ${unleashVersion}`);
console.log(`flag: 5 conditions + 1 segment + 50% rollout; ${contextCount.toLocaleString('en-US')} rotating contexts`);
console.log(
  `agreement: targeting identical on ${contextCount}/${contextCount} contexts (${agreement.targeted} targeted); ` +
    `50% split on: ToggleMaster ${agreement.oursOn}, unleash ${agreement.theirsOn} (each exactly its own hash)`,
);
console.log(`rounds: ${rounds} × ${perRound.toLocaleString('en-US')} evaluations per side, alternating, after a warm-up`);
console.log(
  `  ToggleMaster evaluateFlag : ${format(ourMedian).padStart(12)} evaluations/s (median; rounds ${ourRates.map(format).join(', ')})`,
);
console.log(
  `  unleash-client isEnabled  : ${format(theirMedian).padStart(12)} evaluations/s (median; rounds ${theirRates.map(format).join(', ')})`,
);
console.log(`  ratio ours/theirs         : ${(ourMedian / theirMedian).toFixed(2)}×`);
console.log(
  `network: ${connectAttempts.length} socket connects attempted${warnings.length > 0 ? `; peer warnings: ${warnings.join(' | ')}` : ''}`,
);
if (sink < 0) console.log(sink);
if (connectAttempts.length > 0) process.exitCode = 1;
