/**
 * Release guardrails benchmark (issue 17): a simulated release is rolled back on its own when the treatment is
 * harmful, and is not when it is not.
 *
 *   npm run bench -- release        (or: node bench/release.bench.ts)
 *
 * Starts its own ToggleMaster (migrate, auth, flags, targeting, evaluation with EVENTS_TRANSPORT=sqs, analytics, one
 * analytics-worker, the release-worker with RELEASE_GUARDRAIL_CHECK_MS=1000 — production's default is 10 s), the SQS
 * and DynamoDB stand-ins and a Redis of its own (the release worker's BullMQ queue has no key prefix: on the shared
 * Redis it would take other people's alarms). Then:
 *
 * 1. 10 "harmful" and 20 "equal" boolean flags, each with a release plan: 50/50 on/off held an hour, then 100 % on,
 *    and the guardrail { metric: 'error', treatment: 'on', control: 'off', maxDifference: 0.01 } (alpha 0.05).
 * 2. A load generator in this process: U new users a second (BENCH_RELEASE_USERS_PER_SECOND, 50: at 100 the analytics
 *    worker and dynalite fall behind on a 2-core machine, see docs/benchmarks.md), evenly spaced, for D seconds
 *    (BENCH_RELEASE_SECONDS, 120). Each user is evaluated once for every flag with one `GET /evaluate/bulk` (which
 *    records the exposures), then sends one `error` event per flag with the variant it was served: value 1 with probability 5 % (`on` of a harmful flag) or 1 % (everything else), else 0. Events are
 *    batched (`POST /events/v1/track`, ≤ 1,000 a request, every 250 ms, with an Idempotency-Key, retried on failure).
 *    The draws come from a seeded PRNG (BENCH_RELEASE_SEED); which users get `on` depends on each flag's salt.
 * 3. Each harmful flag's harm starts with its first `on` event; its plan is polled every 250 ms until it is
 *    `rolled-back`, and the rollback's time and figures are read from its `plan.rolled-back` release event.
 * 4. Once the pipeline has drained, the analytics' exact sums (GET /analytics/metrics, GET /analytics/stats) of every
 *    flag are compared with what the generator sent, and every plan's last look is read: the equal flags' verdicts
 *    and p-values, and the sample-ratio checks (a plan paused for a mismatch is a failure).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createDynamoClient } from '../shared/dynamo/client.ts';
import { ensureAnalyticsTable } from '../shared/dynamo/analytics-table.ts';
import platformNames from '../shared/contracts/platform-names.json' with { type: 'json' };
import { judgeGuardrail, mixingVarianceFor } from '../shared/statistics/sequential-test.ts';
import { fmt } from './lib/load.ts';
import { metricOf, metricsText } from './lib/metrics.ts';
import { cpuSeconds, freePort, installSignalHandlers, logDir, onCleanup, pidsOf, sleep, stopEverything } from './lib/processes.ts';
import { loadLine, machineLine, percentileOf, target } from './lib/report.ts';
import { startDynamoStandIn } from './lib/stand-ins.ts';
import { admin, expectStatus, startTogglemaster, type Togglemaster } from './lib/togglemaster.ts';

const usersPerSecond = Number(process.env.BENCH_RELEASE_USERS_PER_SECOND ?? 50);
const seconds = Number(process.env.BENCH_RELEASE_SECONDS ?? 120);
const seed = Number(process.env.BENCH_RELEASE_SEED ?? 17);
const checkMs = Number(process.env.BENCH_RELEASE_CHECK_MS ?? 1_000);
const harmfulCount = 10;
const equalCount = 20;
const rates = { harmful: { on: 0.05, off: 0.01 }, equal: { on: 0.01, off: 0.01 } } as const;
const guardrail = { metric: 'error', treatment: 'on', control: 'off', maxDifference: 0.01 } as const;
const alpha = 0.05;
const flushMs = 250;
const pollMs = 250;
/** Bulk requests in flight at most: beyond it the generator falls behind (and says so) rather than pile up. */
const maxInFlight = 200;
const environment = 'production';

type Kind = 'harmful' | 'equal';
type Variant = 'on' | 'off';

interface Arm {
  count: number;
  sum: number;
}

interface FlagRun {
  key: string;
  kind: Kind;
  index: number;
  /** Bulk answers that served each variant (every bulk request this benchmark made, warm-ups included). */
  exposures: Map<string, number>;
  /** Events the track endpoint accepted (202), per variant. */
  accepted: Record<Variant, Arm>;
  /** When each event was generated (epoch ms) and its value, per variant: harmful flags only (the data by any time). */
  times: Record<Variant, number[]> | undefined;
  values: Record<Variant, number[]> | undefined;
  harmStartedAt: number | undefined;
  rolledBackAt: number | undefined;
  observedAt: number | undefined;
}

interface GuardrailCheck {
  checkedAt: string;
  treatment: { variant: string; count: number; mean: number };
  control: { variant: string; count: number; mean: number };
  difference: number;
  pValue: number;
  verdict: string;
}

interface SampleRatioCheck {
  checkedAt: string;
  observed: Record<string, number>;
  pValue: number;
  mismatch: boolean;
}

interface Plan {
  id: string;
  status: string;
  outcome: string | null;
  guardrailChecks: GuardrailCheck[];
  sampleRatio: SampleRatioCheck | null;
}

interface ReleaseEvent {
  type: string;
  at: string;
  detail: string | null;
  guardrail?: GuardrailCheck;
  sampleRatio?: SampleRatioCheck;
}

export interface HarmfulFlagResult {
  key: string;
  rolledBack: boolean;
  /** From the first `on` event generated to the `plan.rolled-back` event, in seconds. */
  secondsToRollback: number | null;
  /**
   * When the test would have breached had every event been judged as it happened (a look every 100 ms on the events
   * generated so far, no pipeline): the part of the time the samples take; the rest is the pipeline and the looks.
   */
  secondsToEnoughData: number | null;
  /** From the rollback to this benchmark seeing the plan rolled back (polled every 250 ms). */
  observedAfterMs: number | null;
  /** The events per arm the deciding look counted, and what the generator had sent by then. */
  counted: { on: number; off: number } | null;
  sentByThen: { on: number; off: number } | null;
  means: { on: number; off: number } | null;
  pValue: number | null;
}

export interface EqualFlagResult {
  key: string;
  status: string;
  verdict: string | null;
  pValue: number | null;
  difference: number | null;
  counts: { on: number; off: number } | null;
}

export interface ReleaseResult {
  settings: {
    usersPerSecond: number;
    seconds: number;
    harmful: number;
    equal: number;
    guardrailCheckMs: number;
    seed: number;
    rates: typeof rates;
    maxDifference: number;
    alpha: number;
  };
  load: {
    users: number;
    usersPerSecond: number;
    evaluationsPerSecond: number;
    trackEvents: number;
    trackEventsPerSecond: number;
    trackRequests: number;
    bulkFailures: number;
    trackFailures: number;
    bulkLatencyMs: { p50: number; p99: number; max: number };
    maxLagMs: number;
    cpu: Record<string, number>;
  };
  expectedEventsPerArm: number;
  harmful: {
    rolledBack: number;
    total: number;
    secondsToRollback: { p50: number; p90: number; max: number };
    /** The same for the zero-delay monitor (`secondsToEnoughData`), and the rollback's delay after it. */
    secondsToEnoughData: { p50: number; p90: number; max: number };
    delayAfterEnoughData: { p50: number; max: number };
    flags: HarmfulFlagResult[];
  };
  equal: { rolledBack: number; total: number; pValue: { min: number; max: number }; flags: EqualFlagResult[] };
  sampleRatio: {
    checked: number;
    paused: number;
    mismatches: string[];
    pValue: { min: number; max: number };
    /** Each plan's last check (or the one that paused it). */
    checks: { key: string; checkedAt: string; observed: Record<string, number>; pValue: number; paused: boolean }[];
    /**
     * The split the equal flags were served in each whole minute of the load (GET /analytics/stats): z of `on` against
     * 50 %. Binomial assignment gives a mean z² near 1 and |z| > 3.29 (p < 0.001) once in a thousand minutes.
     */
    perMinute: { minutes: number; meanZ2: number; maxAbsZ: number; beyondP001: number };
  };
  sums: { flags: number; exact: boolean; mismatches: string[]; drainSeconds: number };
  /** The release worker's looks over the whole run, and its rounds (one look at every running plan) during the load. */
  looks: Record<string, number>;
  rounds: { duringLoad: number; meanSeconds: number; failed: number };
  /** Messages waiting in the events queue, sampled every 10 s during the load (does the analytics worker keep up?). */
  queueDepth: { max: number; atEnd: number };
  met: { allRolledBack: boolean; noFalseRollback: boolean; noMismatch: boolean; exactSums: boolean };
}

/** mulberry32: a small seeded PRNG, so that a run's error draws can be repeated. */
function prng(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The events per arm from which the test breaches when the arms show exactly their true rates (5 % against 1 %,
 * margin 1 point): the samples the always-valid test needs before random variation is added.
 */
export function expectedEventsPerArm(treatmentRate: number, controlRate: number): number {
  for (let n = 100; n < 1_000_000; n += 10) {
    const verdict = judgeGuardrail({
      treatment: { count: n, sum: treatmentRate * n, sumOfSquares: treatmentRate * n },
      control: { count: n, sum: controlRate * n, sumOfSquares: controlRate * n },
      margin: guardrail.maxDifference,
      alpha,
      mixingVariance: mixingVarianceFor(guardrail.maxDifference),
    });
    if (verdict.verdict === 'breach') return n;
  }
  return NaN;
}

/**
 * The first moment (epoch ms, on a 100 ms grid from the harm's start) at which the events generated so far breach the
 * guardrail: what a monitor that saw every event at once and looked every 100 ms would have found.
 */
function enoughDataAt(
  times: Record<Variant, number[]>,
  values: Record<Variant, number[]>,
  from: number,
  until: number,
): number | undefined {
  const arms = { on: { count: 0, sum: 0, sumOfSquares: 0 }, off: { count: 0, sum: 0, sumOfSquares: 0 } };
  const next = { on: 0, off: 0 };
  for (let at = from; at <= until; at += 100) {
    for (const variant of ['on', 'off'] as const) {
      while (next[variant] < times[variant].length && times[variant][next[variant]]! <= at) {
        const value = values[variant][next[variant]]!;
        arms[variant].count += 1;
        arms[variant].sum += value;
        arms[variant].sumOfSquares += value * value;
        next[variant] += 1;
      }
    }
    const verdict = judgeGuardrail({
      treatment: arms.on,
      control: arms.off,
      margin: guardrail.maxDifference,
      alpha,
      mixingVariance: mixingVarianceFor(guardrail.maxDifference),
    });
    if (verdict.verdict === 'breach') return at;
  }
  return undefined;
}

/** A Redis of the benchmark's own on a free port, nothing on disk, stopped at the end (and on an abrupt exit). */
async function startOwnRedis(): Promise<{ url: string; pid: number }> {
  const port = await freePort();
  const child = spawn(
    process.env.REDIS_SERVER ?? 'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  if (child.pid === undefined) throw new Error('could not start redis-server');
  const kill = () => child.kill('SIGKILL');
  process.on('exit', kill);
  onCleanup(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    kill();
    await exited;
  });
  const { Redis } = await import('ioredis');
  const url = `redis://127.0.0.1:${port}`;
  const deadline = performance.now() + 10_000;
  for (;;) {
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      return { url, pid: child.pid };
    } catch {
      if (performance.now() > deadline) throw new Error(`redis-server did not start on ${port}`);
      await sleep(50);
    } finally {
      probe.disconnect();
    }
  }
}

/** Admin calls with headers of our own (If-Match), logged in as the benchmark's admin. */
function adminClient(tm: Togglemaster) {
  let token = '';
  let tokenAt = 0;
  async function login(): Promise<string> {
    if (token && performance.now() - tokenAt < 10 * 60_000) return token;
    const response = await fetch(`${tm.auth.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(admin),
    });
    if (response.status !== 200) throw new Error(`admin login failed: ${response.status} ${await response.text()}`);
    token = ((await response.json()) as { accessToken: string }).accessToken;
    tokenAt = performance.now();
    return token;
  }
  return async function call<T>(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${await login()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

/** The release worker's guardrail rounds so far: how many, how long in all, how many failed. */
async function guardrailRounds(url: string): Promise<{ rounds: number; seconds: number; failed: number }> {
  const text = await metricsText(url);
  const job = 'job="release-guardrails"';
  return {
    rounds: metricOf(text, 'background_job_duration_seconds_count', job),
    seconds: metricOf(text, 'background_job_duration_seconds_sum', job),
    failed: metricOf(text, 'background_job_runs_total', job, 'outcome="failed"'),
  };
}

export async function runRelease(): Promise<ReleaseResult> {
  console.log(
    `\n=== Release guardrails: ${harmfulCount} harmful + ${equalCount} equal releases, ${usersPerSecond} users/s × ${seconds} s === (${loadLine()})`,
  );
  const dynamo = await startDynamoStandIn('release-dynamodb');
  const client = createDynamoClient({ AWS_REGION: platformNames.awsRegion, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint });
  await ensureAnalyticsTable(client, platformNames.dynamodb.analyticsTable);
  client.destroy();
  const redis = await startOwnRedis();
  const tm = await startTogglemaster({ name: 'release', evaluations: 1, dynamoEndpoint: dynamo.endpoint, env: { REDIS_URL: redis.url } });
  const evaluation = tm.evaluations[0]!;
  const [analytics, worker, releaseWorker] = await Promise.all([
    tm.startRole('analytics', { name: 'release-analytics' }),
    tm.startRole('analytics-worker', { name: 'release-analytics-worker' }),
    tm.startRole('release-worker', { name: 'release-worker', env: { RELEASE_GUARDRAIL_CHECK_MS: String(checkMs) } }),
  ]);
  const call = adminClient(tm);
  const runId = randomBytes(2).toString('hex');

  // — Flags and their release plans —
  const flags: FlagRun[] = [];
  for (const [kind, count] of [
    ['harmful', harmfulCount],
    ['equal', equalCount],
  ] as const)
    for (let i = 0; i < count; i++)
      flags.push({
        key: `release-${kind}-${runId}-${i + 1}`,
        kind,
        index: flags.length,
        exposures: new Map(),
        accepted: { on: { count: 0, sum: 0 }, off: { count: 0, sum: 0 } },
        times: kind === 'harmful' ? { on: [], off: [] } : undefined,
        values: kind === 'harmful' ? { on: [], off: [] } : undefined,
        harmStartedAt: undefined,
        rolledBackAt: undefined,
        observedAt: undefined,
      });
  const byKey = new Map(flags.map((flag) => [flag.key, flag]));
  const benchStartedAt = Date.now();
  for (const flag of flags) {
    const created = await call<{ version: number }>('POST', `${tm.flags.url}/flags`, {
      key: flag.key,
      name: flag.key,
      type: 'boolean',
      environments: { [environment]: { enabled: true, defaultServe: { variant: 'off' } } },
    });
    expectStatus(`flag ${flag.key}`, created, 201);
    const plan = await call(
      'POST',
      `${tm.flags.url}/flags/${flag.key}/environments/${environment}/release-plans`,
      {
        milestones: [
          {
            serve: {
              rollout: [
                { variant: 'on', weight: 50 },
                { variant: 'off', weight: 50 },
              ],
            },
            holdSeconds: 3600,
          },
          { serve: { variant: 'on' }, holdSeconds: 60 },
        ],
        guardrails: [guardrail],
      },
      { 'if-match': `"${created.body.version}"` },
    );
    expectStatus(`release plan of ${flag.key}`, plan, 201);
  }

  // — The load generator —
  const headers = { 'x-api-key': tm.sdkKey };
  const latencies: number[] = [];
  let bulkFailures = 0;
  /** One bulk evaluation: every served variant is tallied (exposures), whatever the request was for. */
  async function bulk(targetingKey: string): Promise<{ flagKey: string; variant?: string; reason: string }[] | undefined> {
    const started = performance.now();
    const response = await fetch(`${evaluation.url}/evaluate/bulk?targetingKey=${encodeURIComponent(targetingKey)}`, { headers });
    if (response.status !== 200) {
      await response.arrayBuffer();
      return undefined;
    }
    const body = (await response.json()) as { flags: { flagKey: string; variant?: string; reason: string }[] };
    latencies.push(performance.now() - started);
    for (const result of body.flags) {
      const flag = byKey.get(result.flagKey);
      if (flag && result.variant !== undefined) flag.exposures.set(result.variant, (flag.exposures.get(result.variant) ?? 0) + 1);
    }
    return body.flags;
  }

  // The first milestone reaches the evaluation instance through the change path: wait until it serves every split.
  for (let attempt = 0; ; attempt++) {
    const answer = await bulk(`warm-up-${attempt}`);
    const splits = (answer ?? []).filter((result) => byKey.has(result.flagKey) && result.reason === 'SPLIT').length;
    if (splits === flags.length) break;
    if (attempt > 200) throw new Error(`the evaluation instance serves ${splits} of ${flags.length} splits after 10 s`);
    await sleep(50);
  }
  latencies.length = 0;

  const random = prng(seed);
  type TrackEvent = { name: string; flagKey: string; variant: Variant; value: number };
  let buffer: TrackEvent[] = [];
  let trackRequests = 0;
  let trackFailures = 0;
  let trackEvents = 0;

  async function post(events: TrackEvent[]): Promise<void> {
    const idempotencyKey = randomBytes(12).toString('base64url');
    for (let attempt = 1; ; attempt++) {
      try {
        const response = await fetch(`${evaluation.url}/events/v1/track`, {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
          body: JSON.stringify({ events }),
        });
        const text = await response.text();
        trackRequests += 1;
        if (response.status === 202) break;
        if (response.status !== 503 || attempt >= 5) throw new Error(`POST /events/v1/track: ${response.status} ${text.slice(0, 300)}`);
      } catch (error) {
        if (attempt >= 5) {
          trackFailures += events.length;
          console.error(`  ${events.length} events not accepted: ${error instanceof Error ? error.message : String(error)}`);
          return;
        }
      }
      await sleep(200 * attempt);
    }
    trackEvents += events.length;
    for (const event of events) {
      const arm = byKey.get(event.flagKey)!.accepted[event.variant];
      arm.count += 1;
      arm.sum += event.value;
    }
  }

  let flushing = Promise.resolve();
  function flush(): Promise<void> {
    const taken = buffer;
    buffer = [];
    flushing = flushing.then(async () => {
      for (let i = 0; i < taken.length; i += 1_000) await post(taken.slice(i, i + 1_000));
    });
    return flushing;
  }

  let inFlight = 0;
  async function user(n: number, draws: number[]): Promise<void> {
    inFlight += 1;
    try {
      const answer = await bulk(`user-${n}`);
      if (!answer) {
        bulkFailures += 1;
        return;
      }
      const at = Date.now();
      for (const result of answer) {
        const flag = byKey.get(result.flagKey);
        if (!flag || (result.variant !== 'on' && result.variant !== 'off')) continue;
        const variant: Variant = result.variant;
        const value = draws[flag.index]! < rates[flag.kind][variant] ? 1 : 0;
        buffer.push({ name: guardrail.metric, flagKey: flag.key, variant, value });
        if (flag.times) {
          flag.times[variant].push(at);
          flag.values![variant].push(value);
          if (variant === 'on') flag.harmStartedAt ??= at;
        }
      }
    } catch {
      bulkFailures += 1;
    } finally {
      inFlight -= 1;
    }
  }

  // The rollbacks, as they happen: harmful plans every 250 ms, the equal ones every 5 s (a false rollback is read
  // from its release event, the polling only notices it).
  let watching = true;
  async function watch(flag: FlagRun): Promise<void> {
    const plans = await call<{ items: Plan[] }>('GET', `${tm.flags.url}/flags/${flag.key}/release-plans`);
    if (plans.status !== 200) return;
    if (plans.body.items[0]?.status === 'rolled-back') flag.observedAt = Date.now();
  }
  const watcher = (async () => {
    let round = 0;
    while (watching) {
      const due = flags.filter((flag) => flag.observedAt === undefined && (flag.kind === 'harmful' || round % 20 === 0));
      await Promise.all(due.map((flag) => watch(flag).catch(() => {})));
      round += 1;
      await sleep(pollMs);
    }
  })();

  const watched: Record<string, number[]> = {
    evaluation: [evaluation.child.pid],
    'analytics-worker': [worker.child.pid],
    dynalite: [dynamo.child.pid],
    'sqs stand-in': [tm.sqs.child.pid],
    'release-worker': [releaseWorker.child.pid],
    flags: [tm.flags.child.pid],
    redis: [redis.pid],
    'postgres (all)': pidsOf(/^postgres/),
  };
  const cpuOf = () =>
    Object.fromEntries(Object.entries(watched).map(([name, pids]) => [name, pids.reduce((s, pid) => s + (cpuSeconds(pid) || 0), 0)]));
  const cpuBefore = cpuOf();
  const benchCpuBefore = process.cpuUsage();
  const roundsBefore = await guardrailRounds(releaseWorker.url);
  const depths: number[] = [];

  const total = Math.round(usersPerSecond * seconds);
  const loadStartedAt = Date.now();
  const t0 = performance.now();
  let issued = 0;
  let maxLagMs = 0;
  let nextFlush = flushMs;
  const users: Promise<void>[] = [];
  let lastReport = 0;
  while (issued < total) {
    const elapsed = performance.now() - t0;
    const due = Math.min(total, Math.floor((elapsed / 1000) * usersPerSecond) + 1);
    while (issued < due && inFlight < maxInFlight) {
      maxLagMs = Math.max(maxLagMs, elapsed - (issued * 1000) / usersPerSecond);
      // The draws are taken in user order, one per flag, whatever variant the user turns out to get.
      const draws = flags.map(() => random());
      users.push(user(issued, draws));
      issued += 1;
    }
    if (elapsed >= nextFlush) {
      void flush();
      nextFlush += flushMs;
    }
    if (elapsed - lastReport >= 10_000) {
      lastReport = elapsed;
      const rolled = flags.filter((flag) => flag.kind === 'harmful' && flag.observedAt !== undefined).length;
      const line = `    ${fmt(elapsed / 1000)} s: ${fmt(issued)} users, ${fmt(trackEvents)} events accepted, ${rolled}/${harmfulCount} harmful rolled back`;
      // The queue's depth says whether the analytics worker keeps up (read without holding up the load).
      void tm.sqs
        .depth()
        .then((depth) => {
          depths.push(depth[platformNames.queues.evaluationEvents] ?? 0);
          console.log(`${line}, messages waiting ${fmt(depths.at(-1)!)}`);
        })
        .catch(() => console.log(line));
    }
    const nextUser = (issued * 1000) / usersPerSecond;
    await sleep(Math.max(1, Math.min(nextUser, nextFlush) - (performance.now() - t0)));
  }
  await Promise.all(users);
  const loadSeconds = (performance.now() - t0) / 1000;
  await flush();
  const loadEndedAt = Date.now();
  const cpuAfter = cpuOf();
  const roundsAfter = await guardrailRounds(releaseWorker.url);
  const depthAtEnd = (await tm.sqs.depth())[platformNames.queues.evaluationEvents] ?? 0;
  const rounds = {
    duringLoad: roundsAfter.rounds - roundsBefore.rounds,
    meanSeconds: (roundsAfter.seconds - roundsBefore.seconds) / Math.max(1, roundsAfter.rounds - roundsBefore.rounds),
    failed: roundsAfter.failed - roundsBefore.failed,
  };
  const queueDepth = { max: Math.max(depthAtEnd, ...depths), atEnd: depthAtEnd };
  const benchCpu = process.cpuUsage(benchCpuBefore);
  const cpu = Object.fromEntries(Object.entries(cpuAfter).map(([name, after]) => [name, ((after - cpuBefore[name]!) / loadSeconds) * 100]));
  cpu.benchmark = ((benchCpu.user + benchCpu.system) / 1e6 / loadSeconds) * 100;
  const completed = total - bulkFailures;
  const load: ReleaseResult['load'] = {
    users: completed,
    usersPerSecond: completed / loadSeconds,
    evaluationsPerSecond: (completed * flags.length) / loadSeconds,
    trackEvents,
    trackEventsPerSecond: trackEvents / loadSeconds,
    trackRequests,
    bulkFailures,
    trackFailures,
    bulkLatencyMs: { p50: percentileOf(latencies, 0.5), p99: percentileOf(latencies, 0.99), max: Math.max(...latencies) },
    maxLagMs,
    cpu,
  };
  console.log(
    `  load: ${fmt(completed)} users in ${fmt(loadSeconds, 1)} s = ${fmt(load.usersPerSecond, 1)} users/s (asked ${usersPerSecond}), ` +
      `${fmt(load.evaluationsPerSecond)} evaluations/s, ${fmt(load.trackEventsPerSecond)} track events/s in ${fmt(trackRequests)} requests; ` +
      `bulk p50 ${fmt(load.bulkLatencyMs.p50, 1)} ms, p99 ${fmt(load.bulkLatencyMs.p99, 1)} ms; at most ${fmt(maxLagMs)} ms behind schedule; ` +
      `failures: ${bulkFailures} bulk, ${trackFailures} events`,
  );
  console.log(
    `  release worker during the load: ${fmt(rounds.duringLoad)} rounds of looks (each a look at every running plan, then ${checkMs} ms ` +
      `of pause), ${fmt(rounds.meanSeconds * 1000)} ms a round on average, ${rounds.failed} failed; events queue: at most ` +
      `${fmt(queueDepth.max)} messages waiting (sampled every 10 s), ${fmt(depthAtEnd)} at the end of the load`,
  );
  console.log(
    `  cpu during the load: ${Object.entries(cpu)
      .map(([name, pct]) => `${name} ${fmt(pct)}%`)
      .join(' · ')}`,
  );

  // — Drained: the analytics' sums against what was sent —
  const drainStarted = performance.now();
  const rangeFrom = new Date(benchStartedAt - 5 * 60_000).toISOString();
  async function compare(): Promise<string[]> {
    const to = new Date(Date.now() + 60_000).toISOString();
    const mismatches: string[] = [];
    await Promise.all(
      flags.map(async (flag) => {
        const query = `flagKey=${flag.key}&environment=${environment}&from=${rangeFrom}&to=${to}`;
        const [metrics, stats] = await Promise.all([
          call<{ items: { metric: string; variant: string; count: number; sum: number }[] }>(
            'GET',
            `${analytics.url}/analytics/metrics?${query}&metric=${guardrail.metric}`,
          ),
          call<{ totals: Record<string, number> }>('GET', `${analytics.url}/analytics/stats?${query}&granularity=hour`),
        ]);
        expectStatus('analytics metrics', metrics, 200);
        expectStatus('analytics stats', stats, 200);
        for (const variant of ['on', 'off'] as const) {
          const rows = metrics.body.items.filter((row) => row.variant === variant);
          const counted = { count: rows.reduce((n, r) => n + r.count, 0), sum: rows.reduce((n, r) => n + r.sum, 0) };
          const sent = flag.accepted[variant];
          if (counted.count !== sent.count || counted.sum !== sent.sum)
            mismatches.push(`${flag.key} ${variant}: metrics ${counted.count}/${counted.sum}, sent ${sent.count}/${sent.sum}`);
          const exposures = stats.body.totals[variant] ?? 0;
          if (exposures !== (flag.exposures.get(variant) ?? 0))
            mismatches.push(`${flag.key} ${variant}: exposures ${exposures}, served ${flag.exposures.get(variant) ?? 0}`);
        }
      }),
    );
    return mismatches;
  }
  let mismatches = await compare();
  let lastTrace = 0;
  while (mismatches.length > 0 && performance.now() - drainStarted < 600_000) {
    if (performance.now() - lastTrace > 5_000) {
      lastTrace = performance.now();
      const depth = await tm.sqs.depth();
      console.log(
        `    draining, ${fmt((lastTrace - drainStarted) / 1000)} s: ${mismatches.length} arm figures not equal yet (${mismatches[0]}); queues ${JSON.stringify(depth)}`,
      );
    }
    await sleep(1_000);
    mismatches = await compare();
  }
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  // Still equal a few seconds later, with the queue and the DLQ empty: nothing counted twice, nothing left. The worker
  // is stopped first: it deletes processed messages ten at a time and the rest when it stops (a processed message
  // whose delete is still waiting counts as held), so the queue is empty only then — as the pipeline part does.
  await sleep(3_000);
  await worker.child.stop();
  mismatches = await compare();
  const depth = await tm.sqs.depth();
  if (Object.values(depth).some((n) => n > 0)) mismatches.push(`queues not empty: ${JSON.stringify(depth)}`);
  const exactSums = mismatches.length === 0;
  console.log(
    `  analytics (all ${flags.length} flags): error count and sum per variant, and exposures per variant, ${
      exactSums ? `equal to what was sent (drained ${fmt(drainSeconds, 1)} s after the load; queue and DLQ empty)` : 'NOT equal:'
    }`,
  );
  for (const line of mismatches.slice(0, 10)) console.log(`    ${line}`);

  // The last looks: after the drain, and late enough for the sample-ratio check to have judged the load's minutes.
  const settledAt = Math.max(Date.now(), Math.floor(loadEndedAt / 60_000) * 60_000 + 10_000) + 3 * checkMs + 500;
  await sleep(settledAt - Date.now());
  watching = false;
  await watcher;

  const finalPlans = new Map<string, Plan>();
  const events = new Map<string, ReleaseEvent[]>();
  await Promise.all(
    flags.map(async (flag) => {
      const plans = await call<{ items: Plan[] }>('GET', `${tm.flags.url}/flags/${flag.key}/release-plans`);
      expectStatus('release plans', plans, 200);
      finalPlans.set(flag.key, plans.body.items[0]!);
      const history = await call<{ items: ReleaseEvent[] }>('GET', `${tm.flags.url}/flags/${flag.key}/release-events?limit=100`);
      expectStatus('release events', history, 200);
      events.set(flag.key, history.body.items);
      const rollback = history.body.items.find((event) => event.type === 'plan.rolled-back');
      if (rollback) flag.rolledBackAt = Date.parse(rollback.at);
    }),
  );

  // — Harmful releases —
  const expected = expectedEventsPerArm(rates.harmful.on, rates.harmful.off);
  const harmful: HarmfulFlagResult[] = flags
    .filter((flag) => flag.kind === 'harmful')
    .map((flag) => {
      const rollback = events.get(flag.key)!.find((event) => event.type === 'plan.rolled-back');
      const check = rollback?.guardrail;
      const checkedAt = check ? Date.parse(check.checkedAt) : undefined;
      const sentBy = (variant: Variant) => (checkedAt === undefined ? 0 : flag.times![variant].filter((at) => at <= checkedAt).length);
      const rolledBack = flag.rolledBackAt !== undefined && flag.harmStartedAt !== undefined;
      const enough =
        flag.harmStartedAt === undefined
          ? undefined
          : enoughDataAt(flag.times!, flag.values!, flag.harmStartedAt, flag.rolledBackAt ?? loadEndedAt);
      return {
        key: flag.key,
        rolledBack,
        secondsToRollback: rolledBack ? (flag.rolledBackAt! - flag.harmStartedAt!) / 1000 : null,
        secondsToEnoughData: enough === undefined ? null : (enough - flag.harmStartedAt!) / 1000,
        observedAfterMs: rolledBack && flag.observedAt !== undefined ? flag.observedAt - flag.rolledBackAt! : null,
        counted: check ? { on: check.treatment.count, off: check.control.count } : null,
        sentByThen: check ? { on: sentBy('on'), off: sentBy('off') } : null,
        means: check ? { on: check.treatment.mean, off: check.control.mean } : null,
        pValue: check?.pValue ?? null,
      };
    });
  const times = harmful.flatMap((flag) => (flag.secondsToRollback === null ? [] : [flag.secondsToRollback]));
  const enoughTimes = harmful.flatMap((flag) => (flag.secondsToEnoughData === null ? [] : [flag.secondsToEnoughData]));
  const delays = harmful.flatMap((flag) =>
    flag.secondsToRollback === null || flag.secondsToEnoughData === null ? [] : [flag.secondsToRollback - flag.secondsToEnoughData],
  );
  const spread = (values: number[]) => ({
    p50: percentileOf(values, 0.5),
    p90: percentileOf(values, 0.9),
    max: values.length > 0 ? Math.max(...values) : NaN,
  });
  const harmfulResult: ReleaseResult['harmful'] = {
    rolledBack: times.length,
    total: harmful.length,
    secondsToRollback: spread(times),
    secondsToEnoughData: spread(enoughTimes),
    delayAfterEnoughData: { p50: percentileOf(delays, 0.5), max: delays.length > 0 ? Math.max(...delays) : NaN },
    flags: harmful,
  };
  console.log(
    `\n  harmful (on ${rates.harmful.on * 100} % errors, off ${rates.harmful.off * 100} %, margin ${guardrail.maxDifference * 100} point): ` +
      `rolled back ${harmfulResult.rolledBack}/${harmfulResult.total} (target all: ${target(harmfulResult.rolledBack === harmfulResult.total)})`,
  );
  console.log(
    `    harm start → rollback: p50 ${fmt(harmfulResult.secondsToRollback.p50, 1)} s, p90 ${fmt(harmfulResult.secondsToRollback.p90, 1)} s, ` +
      `max ${fmt(harmfulResult.secondsToRollback.max, 1)} s (the test needs ≈ ${fmt(expected)} events per arm at exactly the true rates: ` +
      `${fmt(expected / (usersPerSecond / 2), 1)} s of traffic at ${usersPerSecond} users/s)`,
  );
  console.log(
    `    judged on every event as it happened (no pipeline, a look every 100 ms) the same data would have breached after p50 ` +
      `${fmt(harmfulResult.secondsToEnoughData.p50, 1)} s, p90 ${fmt(harmfulResult.secondsToEnoughData.p90, 1)} s, max ` +
      `${fmt(harmfulResult.secondsToEnoughData.max, 1)} s; the pipeline and the looks added p50 ${fmt(harmfulResult.delayAfterEnoughData.p50, 1)} s, ` +
      `max ${fmt(harmfulResult.delayAfterEnoughData.max, 1)} s`,
  );
  for (const flag of harmful)
    console.log(
      `    ${flag.key}: ${flag.secondsToRollback === null ? 'NOT rolled back' : `${fmt(flag.secondsToRollback, 1)} s`}` +
        (flag.secondsToEnoughData === null ? '' : ` (enough data after ${fmt(flag.secondsToEnoughData, 1)} s)`) +
        (flag.counted && flag.sentByThen && flag.means
          ? `, counted on ${fmt(flag.counted.on)} / off ${fmt(flag.counted.off)} (sent by then ${fmt(flag.sentByThen.on)} / ${fmt(flag.sentByThen.off)}), ` +
            `means ${fmt(flag.means.on * 100, 2)} % vs ${fmt(flag.means.off * 100, 2)} %, p=${flag.pValue?.toPrecision(2)}`
          : '') +
        (flag.observedAfterMs === null ? '' : `; seen by polling ${fmt(flag.observedAfterMs)} ms later`),
    );

  // — Equal releases —
  const equal: EqualFlagResult[] = flags
    .filter((flag) => flag.kind === 'equal')
    .map((flag) => {
      const plan = finalPlans.get(flag.key)!;
      const check = plan.guardrailChecks[0];
      return {
        key: flag.key,
        status: plan.status,
        verdict: check?.verdict ?? null,
        pValue: check?.pValue ?? null,
        difference: check?.difference ?? null,
        counts: check ? { on: check.treatment.count, off: check.control.count } : null,
      };
    });
  const equalRolledBack = equal.filter((flag) => flag.status === 'rolled-back').length;
  const pValues = equal.flatMap((flag) => (flag.pValue === null ? [] : [flag.pValue]));
  const differences = equal.flatMap((flag) => (flag.difference === null ? [] : [flag.difference]));
  const equalResult: ReleaseResult['equal'] = {
    rolledBack: equalRolledBack,
    total: equal.length,
    pValue: { min: Math.min(...pValues), max: Math.max(...pValues) },
    flags: equal,
  };
  const counts = equal.flatMap((flag) => (flag.counts ? [flag.counts.on, flag.counts.off] : []));
  console.log(
    `\n  equal (1 % errors in both): rolled back ${equalRolledBack}/${equal.length} = false-rollback rate ${fmt((equalRolledBack / equal.length) * 100)} % ` +
      `(target 0/${equal.length}: ${target(equalRolledBack === 0)}); last looks: ${fmt(Math.min(...counts))}–${fmt(Math.max(...counts))} events per arm, ` +
      `difference ${fmt(Math.min(...differences) * 100, 2)} to ${fmt(Math.max(...differences) * 100, 2)} points, ` +
      `always-valid p ${equalResult.pValue.min.toPrecision(2)}–${equalResult.pValue.max.toPrecision(2)}, verdicts ` +
      [...new Set(equal.map((flag) => flag.verdict))].join(', '),
  );
  for (const flag of equal.filter((f) => f.status === 'rolled-back'))
    console.log(`    FALSE ROLLBACK ${flag.key}: ${finalPlans.get(flag.key)?.outcome ?? ''}`);

  // — Sample ratio —
  const srmChecks = flags.flatMap((flag) => {
    const plan = finalPlans.get(flag.key)!;
    const paused = events.get(flag.key)!.find((event) => event.type === 'plan.paused' && event.sampleRatio);
    const check = paused?.sampleRatio ?? plan.sampleRatio;
    return check ? [{ key: flag.key, check, paused: Boolean(paused) || plan.status === 'paused' }] : [];
  });
  const srmPaused = srmChecks.filter((entry) => entry.paused || entry.check.mismatch);
  const srmP = srmChecks.map((entry) => entry.check.pValue);
  const zs: number[] = [];
  const firstMinute = Math.ceil(loadStartedAt / 60_000) * 60_000;
  const lastMinute = Math.floor(loadEndedAt / 60_000) * 60_000 - 60_000;
  // (None when the load spans no whole minute.)
  for (const flag of lastMinute >= firstMinute ? flags.filter((f) => f.kind === 'equal') : []) {
    const query = `flagKey=${flag.key}&environment=${environment}&granularity=minute&from=${new Date(firstMinute).toISOString()}&to=${new Date(lastMinute + 60_000).toISOString()}`;
    const stats = await call<{ buckets: { start: string; counts: Record<string, number>; total: number }[] }>(
      'GET',
      `${analytics.url}/analytics/stats?${query}`,
    );
    expectStatus('analytics stats', stats, 200);
    for (const bucket of stats.body.buckets) {
      const start = Date.parse(bucket.start);
      if (start < firstMinute || start > lastMinute || bucket.total === 0) continue;
      zs.push(((bucket.counts.on ?? 0) - bucket.total / 2) / Math.sqrt(bucket.total / 4));
    }
  }
  const sampleRatio: ReleaseResult['sampleRatio'] = {
    checked: srmChecks.length,
    paused: srmPaused.length,
    mismatches: srmPaused.map(
      (entry) => `${entry.key}: ${JSON.stringify(entry.check.observed)} p=${entry.check.pValue.toPrecision(2)} at ${entry.check.checkedAt}`,
    ),
    pValue: { min: Math.min(...srmP), max: Math.max(...srmP) },
    checks: srmChecks.map((entry) => ({
      key: entry.key,
      checkedAt: entry.check.checkedAt,
      observed: entry.check.observed,
      pValue: entry.check.pValue,
      paused: entry.paused,
    })),
    perMinute: {
      minutes: zs.length,
      meanZ2: zs.length > 0 ? zs.reduce((sum, z) => sum + z * z, 0) / zs.length : NaN,
      maxAbsZ: zs.length > 0 ? Math.max(...zs.map(Math.abs)) : NaN,
      beyondP001: zs.filter((z) => Math.abs(z) > 3.29).length,
    },
  };
  console.log(
    `  sample ratio: ${sampleRatio.checked} of ${flags.length} plans had a settled minute checked (a plan rolled back within its first ` +
      `minute has none), always-valid p ${fmt(sampleRatio.pValue.min, 3)}–${fmt(sampleRatio.pValue.max, 3)}; paused by a mismatch: ${sampleRatio.paused} ` +
      `(target 0: ${target(sampleRatio.paused === 0)})`,
  );
  for (const line of sampleRatio.mismatches) console.log(`    MISMATCH ${line}`);
  console.log(
    `    the equal flags' split per whole minute of the load: ${sampleRatio.perMinute.minutes} minutes, mean z² ${fmt(sampleRatio.perMinute.meanZ2, 2)} ` +
      `(binomial: 1), max |z| ${fmt(sampleRatio.perMinute.maxAbsZ, 2)}, ${sampleRatio.perMinute.beyondP001} beyond p < 0.001`,
  );

  const workerMetrics = await metricsText(releaseWorker.url);
  const looks = Object.fromEntries(
    ['holding', 'rolled-back', 'paused'].map((outcome) => [
      outcome,
      metricOf(workerMetrics, 'release_guardrail_looks_total', `outcome="${outcome}"`),
    ]),
  );
  console.log(
    `  release worker, whole run: looks ${Object.entries(looks)
      .map(([outcome, n]) => `${outcome} ${fmt(n)}`)
      .join(', ')} (RELEASE_GUARDRAIL_CHECK_MS=${checkMs}); breaches ${metricOf(workerMetrics, 'release_guardrail_breaches_total')}`,
  );

  await tm.stop();
  await dynamo.child.stop();
  return {
    settings: {
      usersPerSecond,
      seconds,
      harmful: harmfulCount,
      equal: equalCount,
      guardrailCheckMs: checkMs,
      seed,
      rates,
      maxDifference: guardrail.maxDifference,
      alpha,
    },
    load,
    expectedEventsPerArm: expected,
    harmful: harmfulResult,
    equal: equalResult,
    sampleRatio,
    sums: { flags: flags.length, exact: exactSums, mismatches, drainSeconds },
    looks,
    rounds,
    queueDepth,
    met: {
      allRolledBack: harmfulResult.rolledBack === harmfulResult.total,
      noFalseRollback: equalRolledBack === 0,
      noMismatch: sampleRatio.paused === 0,
      exactSums,
    },
  };
}

if (import.meta.main) {
  installSignalHandlers();
  console.log(`Release guardrails benchmark — ${new Date().toISOString()}\nmachine: ${machineLine()}\nlogs of every process: ${logDir}`);
  let code = 0;
  try {
    await runRelease();
  } catch (error) {
    code = 1;
    console.error(`\nBenchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await stopEverything();
  }
  process.exit(code);
}
