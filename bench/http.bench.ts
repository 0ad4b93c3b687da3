/**
 * HTTP benchmarks: ToggleMaster's evaluation service against unleash-server's Frontend API, each a production-like
 * process, 50 connections, a warm-up, then ≥ 15 s per endpoint; and a bare fastify baseline.
 *   1. all flags for one context: OFREP bulk and GET /evaluate/bulk vs GET /api/frontend
 *   2. one flag: OFREP single and POST /evaluate vs GET /api/frontend on an environment where only that flag is on
 *      (Unleash has no server-side single-flag endpoint), and the baseline
 *   3. the same with 10,000 rotating contexts
 * Run by `npm run bench` (bench/run.ts), which starts and stops the processes.
 */
import { defaults, fmt, printLoad, ratio, runLoad, type LoadResult, type LoadSpec, type Watched } from './lib/load.ts';
import { sleep } from './lib/processes.ts';
import type { SqsStandIn } from './lib/stand-ins.ts';
import { expectStatus, inParallel, type Togglemaster } from './lib/togglemaster.ts';
import { createUnleashFlags, unleashBucket, type UnleashPeer } from './lib/unleash.ts';
import {
  contextQuery,
  fixedContext,
  flagCount,
  flagKeys,
  ourFlag,
  ourRule,
  ourSegment,
  rotatingContexts,
  singleFlag,
  type BenchContext,
} from './lib/workload.ts';

export interface HttpTargets {
  ours: { url: string; sdkKey: string; watched: Watched[]; sqs: SqsStandIn };
  unleash: { peer: UnleashPeer; watched: Watched[] };
  baseline: { url: string; watched: Watched[] };
}

export type HttpSummary = Record<string, LoadResult>;

interface OfrepBulk {
  flags: { key: string; variant?: string; reason: string; metadata?: { ruleId?: string } }[];
}
interface FrontendAnswer {
  toggles: { name: string; enabled: boolean; variant: { name: string } }[];
}

/** The 50 flags, the segment and the rules through ToggleMaster's flags and targeting APIs. */
export async function createOurFlags(tm: Togglemaster): Promise<void> {
  expectStatus('segment', await tm.api('POST', `${tm.targeting.url}/targeting/segments`, ourSegment), 201);
  await inParallel(flagKeys, 4, async (key, i) => {
    expectStatus(`flag ${key}`, await tm.api('POST', `${tm.flags.url}/flags`, ourFlag(key)), 201);
    expectStatus(`rule of ${key}`, await tm.api('POST', `${tm.targeting.url}/targeting/rules`, ourRule(key, i)), 201);
  });
}

export async function ourBulk(url: string, sdkKey: string, context: BenchContext): Promise<OfrepBulk> {
  const response = await fetch(`${url}/ofrep/v1/evaluate/flags`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': sdkKey },
    body: JSON.stringify({ context }),
  });
  if (response.status !== 200) throw new Error(`OFREP bulk answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as OfrepBulk;
}

async function frontend(peer: UnleashPeer, token: string, context: BenchContext): Promise<FrontendAnswer> {
  const response = await fetch(`${peer.url}/api/frontend?${contextQuery(context, 'userId')}`, { headers: { authorization: token } });
  if (response.status !== 200) throw new Error(`Unleash frontend API answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as FrontendAnswer;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * Creates the workload in both products and checks that they answer the same: on 200 rotating contexts, the flags
 * Unleash answers enabled are exactly those ToggleMaster targets (a rule matched: conditions and segment) and that
 * Unleash's own hash puts in its 50%. The hashes differ, so which half a user lands in differs; the work does not.
 */
export async function prepareHttp(tm: Togglemaster, peer: UnleashPeer, evaluationUrls: string[]): Promise<string> {
  await Promise.all([createOurFlags(tm), createUnleashFlags(peer)]);
  const bucket = unleashBucket();
  for (const url of evaluationUrls) {
    await until(`ToggleMaster at ${url} to serve the 50 flags`, async () => {
      const answer = await ourBulk(url, tm.sdkKey, fixedContext);
      return answer.flags.length === flagCount && answer.flags.every((f) => f.metadata?.ruleId !== undefined);
    });
  }
  const expectedFixed = flagKeys.filter((key) => bucket(fixedContext.targetingKey, key) <= 50).length;
  await until(
    'Unleash to serve the 50 flags',
    async () => (await frontend(peer, peer.frontendToken.development, fixedContext)).toggles.length === expectedFixed,
  );

  const sample = rotatingContexts().slice(0, 200);
  let enabled = 0;
  let targeted = 0;
  for (const context of sample) {
    const [ours, theirs] = await Promise.all([
      ourBulk(evaluationUrls[0]!, tm.sdkKey, context),
      frontend(peer, peer.frontendToken.development, context),
    ]);
    if (ours.flags.length !== flagCount) throw new Error(`ToggleMaster answered ${ours.flags.length} flags`);
    const ourTargeted = new Set(ours.flags.filter((f) => f.metadata?.ruleId !== undefined).map((f) => f.key));
    const expected = [...ourTargeted].filter((key) => bucket(context.targetingKey, key) <= 50).sort();
    const got = theirs.toggles.map((t) => t.name).sort();
    if (expected.join() !== got.join())
      throw new Error(
        `the products disagree on ${JSON.stringify(context)}: expected Unleash to enable ${expected.join(', ')}, it enabled ${got.join(', ')}`,
      );
    targeted += ourTargeted.size;
    enabled += got.length;
  }
  const single = await frontend(peer, peer.frontendToken.production, fixedContext);
  if (single.toggles.some((t) => t.name !== singleFlag)) throw new Error(`Unleash's production environment serves more than ${singleFlag}`);
  return `targeting identical on ${sample.length}/${sample.length} rotating contexts (${targeted} flag evaluations targeted by both, ${enabled} of them in Unleash's 50%)`;
}

function skipped(title: string): LoadResult {
  return {
    title,
    requestsPerSecond: NaN,
    p50: NaN,
    p99: NaN,
    max: NaN,
    total: 0,
    non2xx: 0,
    errors: 0,
    seconds: 0,
    bytesPerResponse: NaN,
    cpu: [],
    generatorCpu: NaN,
  };
}

function metric(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
  return match ? Number(match[1]) : NaN;
}

export async function eventMetrics(url: string) {
  const text = await (await fetch(`${url}/metrics`)).text();
  return {
    sent: metric(text, 'evaluation_events_sent_total'),
    droppedRaw: metric(text, 'evaluation_events_dropped_raw_total'),
    queueRequests: metric(text, 'evaluation_events_queue_requests_total'),
    failures: metric(text, 'evaluation_events_send_failures_total'),
  };
}

export async function runHttpBenchmarks(targets: HttpTargets): Promise<HttpSummary> {
  const { ours, unleash, baseline } = targets;
  const results: Record<string, LoadResult> = {};
  const json = { 'content-type': 'application/json' };
  const ourHeaders = { ...json, 'x-api-key': ours.sdkKey };
  const body = JSON.stringify({ context: fixedContext });
  const contexts = rotatingContexts();

  // BENCH_ONLY (a regular expression over the ids, e.g. `allFlags.ofrep`) runs just those: for profiling one endpoint.
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
  async function measure(id: string, spec: LoadSpec, watched: Watched[], isOurs = false): Promise<LoadResult> {
    if (only && !only.test(id)) return skipped(spec.title);
    await ours.sqs.clear();
    const before = isOurs ? await eventMetrics(ours.url) : undefined;
    const result = await runLoad(spec, watched);
    results[id] = result;
    printLoad(result);
    if (before) {
      const after = await eventMetrics(ours.url);
      const sent = after.sent - before.sent;
      console.log(
        `  ${''.padEnd(58)} events: ${fmt(sent)} sent (${fmt(after.queueRequests - before.queueRequests)} SQS requests), ${fmt(after.droppedRaw - before.droppedRaw)} raw dropped for room (still counted), ${fmt(after.failures - before.failures)} failed sends`,
      );
    }
    return result;
  }

  console.log(
    `\n— 1. All flags for one context (${flagCount} flags; ${defaults.connections} connections, ${defaults.warmupSeconds} s warm-up, ${defaults.durationSeconds} s) —`,
  );
  const ofrepBulk = await measure(
    'allFlags.ofrep',
    {
      title: 'ToggleMaster POST /ofrep/v1/evaluate/flags',
      url: ours.url,
      path: '/ofrep/v1/evaluate/flags',
      method: 'POST',
      headers: ourHeaders,
      body,
    },
    ours.watched,
    true,
  );
  const getBulk = await measure(
    'allFlags.bulk',
    {
      title: 'ToggleMaster GET /evaluate/bulk',
      url: ours.url,
      path: `/evaluate/bulk?${contextQuery(fixedContext, 'targetingKey')}`,
      method: 'GET',
      headers: { 'x-api-key': ours.sdkKey },
    },
    ours.watched,
    true,
  );
  const frontendAll = await measure(
    'allFlags.unleash',
    {
      title: 'Unleash GET /api/frontend',
      url: unleash.peer.url,
      path: `/api/frontend?${contextQuery(fixedContext, 'userId')}`,
      method: 'GET',
      headers: { authorization: unleash.peer.frontendToken.development },
    },
    unleash.watched,
  );
  console.log(
    `  ratio ours/theirs: OFREP bulk ${ratio(ofrepBulk.requestsPerSecond, frontendAll.requestsPerSecond)}, GET /evaluate/bulk ${ratio(getBulk.requestsPerSecond, frontendAll.requestsPerSecond)} (target ≥ 8×, p99 ≤ 10 ms)`,
  );

  console.log(`\n— 2. One flag (${singleFlag}: country, appVersion semver, segment, 50% rollout, two variants) —`);
  const ofrepOne = await measure(
    'oneFlag.ofrep',
    {
      title: `ToggleMaster POST /ofrep/v1/evaluate/flags/${singleFlag}`,
      url: ours.url,
      path: `/ofrep/v1/evaluate/flags/${singleFlag}`,
      method: 'POST',
      headers: ourHeaders,
      body,
    },
    ours.watched,
    true,
  );
  const evaluateOne = await measure(
    'oneFlag.evaluate',
    {
      title: 'ToggleMaster POST /evaluate',
      url: ours.url,
      path: '/evaluate',
      method: 'POST',
      headers: ourHeaders,
      body: JSON.stringify({ flagKey: singleFlag, context: fixedContext }),
    },
    ours.watched,
    true,
  );
  const frontendOne = await measure(
    'oneFlag.unleash',
    {
      title: 'Unleash GET /api/frontend (only this flag on)',
      url: unleash.peer.url,
      path: `/api/frontend?${contextQuery(fixedContext, 'userId')}`,
      method: 'GET',
      headers: { authorization: unleash.peer.frontendToken.production },
    },
    unleash.watched,
  );
  const baseGet = await measure(
    'oneFlag.baselineGet',
    { title: 'bare fastify GET /baseline', url: baseline.url, path: '/baseline', method: 'GET' },
    baseline.watched,
  );
  const basePost = await measure(
    'oneFlag.baselinePost',
    { title: 'bare fastify POST /baseline (same body)', url: baseline.url, path: '/baseline', method: 'POST', headers: json, body },
    baseline.watched,
  );
  console.log(
    `  ratio to the baseline: OFREP ${ratio(ofrepOne.requestsPerSecond, basePost.requestsPerSecond)} of POST, ${ratio(ofrepOne.requestsPerSecond, baseGet.requestsPerSecond)} of GET; /evaluate ${ratio(evaluateOne.requestsPerSecond, basePost.requestsPerSecond)} of POST (target ≥ 0.6×, p99 ≤ 5 ms)`,
  );
  console.log(
    `  ratio ours/theirs: OFREP ${ratio(ofrepOne.requestsPerSecond, frontendOne.requestsPerSecond)}, /evaluate ${ratio(evaluateOne.requestsPerSecond, frontendOne.requestsPerSecond)}`,
  );

  console.log(`\n— 3. Rotating contexts (${fmt(contexts.length)} users, each request the next one) —`);
  const bulkBodies = contexts.map((context) => ({ path: '/ofrep/v1/evaluate/flags', body: JSON.stringify({ context }) }));
  const oneBodies = contexts.map((context) => ({ path: `/ofrep/v1/evaluate/flags/${singleFlag}`, body: JSON.stringify({ context }) }));
  const frontendPaths = contexts.map((context) => ({ path: `/api/frontend?${contextQuery(context, 'userId')}` }));
  const bulkPaths = contexts.map((context) => ({ path: `/evaluate/bulk?${contextQuery(context, 'targetingKey')}` }));
  const rotOfrepBulk = await measure(
    'rotating.ofrepBulk',
    { title: 'ToggleMaster POST /ofrep/v1/evaluate/flags', url: ours.url, method: 'POST', headers: ourHeaders, rotate: bulkBodies },
    ours.watched,
    true,
  );
  const rotGetBulk = await measure(
    'rotating.bulk',
    { title: 'ToggleMaster GET /evaluate/bulk', url: ours.url, method: 'GET', headers: { 'x-api-key': ours.sdkKey }, rotate: bulkPaths },
    ours.watched,
    true,
  );
  const rotFrontend = await measure(
    'rotating.unleash',
    {
      title: 'Unleash GET /api/frontend',
      url: unleash.peer.url,
      method: 'GET',
      headers: { authorization: unleash.peer.frontendToken.development },
      rotate: frontendPaths,
    },
    unleash.watched,
  );
  const rotOfrepOne = await measure(
    'rotating.ofrepOne',
    {
      title: `ToggleMaster POST /ofrep/v1/evaluate/flags/${singleFlag}`,
      url: ours.url,
      method: 'POST',
      headers: ourHeaders,
      rotate: oneBodies,
    },
    ours.watched,
    true,
  );
  const rotFrontendOne = await measure(
    'rotating.unleashOne',
    {
      title: 'Unleash GET /api/frontend (only this flag on)',
      url: unleash.peer.url,
      method: 'GET',
      headers: { authorization: unleash.peer.frontendToken.production },
      rotate: frontendPaths,
    },
    unleash.watched,
  );
  console.log(
    `  ratio ours/theirs: all flags OFREP ${ratio(rotOfrepBulk.requestsPerSecond, rotFrontend.requestsPerSecond)}, GET bulk ${ratio(rotGetBulk.requestsPerSecond, rotFrontend.requestsPerSecond)}; one flag ${ratio(rotOfrepOne.requestsPerSecond, rotFrontendOne.requestsPerSecond)}`,
  );
  return results;
}
