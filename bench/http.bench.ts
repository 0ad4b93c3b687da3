/**
 * HTTP benchmarks: ToggleMaster's evaluation service against unleash-server's Frontend API, each a production-like
 * process, 50 connections, a warm-up, then ≥ 15 s per endpoint; and a bare fastify baseline.
 *   1. all flags for one context: OFREP bulk and GET /evaluate/bulk vs GET /api/frontend
 *   2. one flag: OFREP single and POST /evaluate vs GET /api/frontend on an environment where only that flag is on
 *      (Unleash has no server-side single-flag endpoint), and the baseline
 *   3. the same with 10,000 rotating contexts
 *   4. (issue 19) the OFREP bulk answer compressed as browsers and Node's fetch negotiate it, the 304 path against the
 *      baseline, and the dataset shapes Unleash Edge publishes figures for (350 and 5 flags), per CPU-second
 * Run by `npm run bench` (bench/run.ts), which starts and stops the processes.
 */
import { defaults, fmt, perCore, printLoad, ratio, runLoad, type LoadResult, type LoadSpec, type Watched } from './lib/load.ts';
import { printFigures, type Figure } from './lib/report.ts';
import { sleep } from './lib/processes.ts';
import type { SqsStandIn } from './lib/stand-ins.ts';
import { expectStatus, inParallel, type Togglemaster } from './lib/togglemaster.ts';
import { createUnleashFlags, unleashBucket, type UnleashPeer } from './lib/unleash.ts';
import {
  contextQuery,
  edgeFlagKey,
  edgeRule,
  edgeShapes,
  fixedContext,
  type EdgeShape,
  flagCount,
  flagKeys,
  ourFlag,
  ourRule,
  ourSegment,
  rotatingContexts,
  singleFlag,
  type BenchContext,
} from './lib/workload.ts';

/** A dataset of Unleash Edge's shape, created in its project, and an SDK key of that project. */
export interface PreparedEdgeShape {
  shape: EdgeShape;
  sdkKey: string;
}

export interface HttpTargets {
  ours: {
    url: string;
    sdkKey: string;
    watched: Watched[];
    sqs: SqsStandIn;
    edgeShapes?: PreparedEdgeShape[];
    /**
     * Replaces the evaluation process with a new one (same configuration) and says where it listens: each of our
     * runs gets a process of its own, so that no run pays for what an earlier one left (a heap grown by millions of
     * events, code optimised for another endpoint). Without it every run shares the one process at `url`.
     */
    fresh?: () => Promise<{ url: string; pid: number }>;
  };
  unleash: { peer: UnleashPeer; watched: Watched[] };
  baseline: { url: string; watched: Watched[] };
}

export interface HttpSummary {
  runs: Record<string, LoadResult>;
  figures: Figure[];
}

/** What Accept-Encoding each kind of client sends: Chromium's fetch, and Node's (undici, as the server providers use). */
export const browserAcceptEncoding = 'gzip, deflate, br, zstd';
export const nodeFetchAcceptEncoding = 'gzip, deflate';

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

/**
 * The dataset shapes Unleash Edge publishes figures for, each in a project of its own with an SDK key of that project
 * (bench/lib/workload.ts), served by every evaluation instance before this returns.
 */
export async function prepareEdgeShapes(tm: Togglemaster, evaluationUrls: string[]): Promise<PreparedEdgeShape[]> {
  const prepared: PreparedEdgeShape[] = [];
  for (const shape of edgeShapes) {
    const { project } = shape;
    expectStatus(`project ${project}`, await tm.api('POST', `${tm.flags.url}/flags/projects`, { key: project, name: shape.name }), 201);
    const keys = Array.from({ length: shape.flags }, (_, i) => edgeFlagKey(shape, i));
    await inParallel(keys, 4, async (key, i) => {
      expectStatus(`flag ${key}`, await tm.api('POST', `${tm.flags.url}/flags?project=${project}`, ourFlag(key)), 201);
      if (i < shape.rules) expectStatus(`rule of ${key}`, await tm.api('POST', `${tm.targeting.url}/targeting/rules`, edgeRule(key)), 201);
    });
    const key = await tm.api<{ key: string }>('POST', `${tm.auth.url}/auth/api-keys?project=${project}`, {
      environment: 'production',
      name: `benchmark ${project}`,
    });
    expectStatus(`SDK key of ${project}`, key, 201);
    for (const url of evaluationUrls) {
      await until(`ToggleMaster at ${url} to serve the ${shape.flags} flags of ${project}`, async () => {
        const response = await fetch(`${url}/ofrep/v1/evaluate/flags`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': key.body.key },
          body: JSON.stringify({ context: fixedContext }),
        });
        if (response.status !== 200) return false;
        const answer = (await response.json()) as OfrepBulk;
        return answer.flags.length === shape.flags && answer.flags.filter((f) => f.metadata?.ruleId !== undefined).length === shape.rules;
      });
    }
    prepared.push({ shape, sdkKey: key.body.key });
  }
  return prepared;
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
  const figures: Figure[] = [];
  // Per core: requests per CPU-second of each side's server processes — ToggleMaster's evaluation, auth and Redis
  // (not the SQS stand-in: AWS's part), Unleash's server and PostgreSQL.
  const ourServers = ['evaluation', 'auth', 'redis'];
  const theirServers = ['unleash-server', 'postgres (all)'];
  const measured = (r: LoadResult) => Number.isFinite(r.requestsPerSecond);
  const json = { 'content-type': 'application/json' };
  const ourHeaders = { ...json, 'x-api-key': ours.sdkKey };
  const body = JSON.stringify({ context: fixedContext });
  const contexts = rotatingContexts();

  // BENCH_ONLY (a regular expression over the ids, e.g. `allFlags.ofrep`) runs just those: for profiling one endpoint.
  const only = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY) : undefined;
  async function measure(id: string, spec: LoadSpec, watched: Watched[], isOurs = false): Promise<LoadResult> {
    if (only && !only.test(id)) return skipped(spec.title);
    await ours.sqs.clear();
    let url = ours.url;
    if (isOurs && ours.fresh) {
      const fresh = await ours.fresh();
      url = fresh.url;
      ours.url = url; // what is fetched between runs (an ETag, the Edge shapes' answers) asks the live process
      spec = { ...spec, url };
      watched = watched.map((w) => (w.name === 'evaluation' ? { ...w, pids: [fresh.pid] } : w));
    }
    const before = isOurs ? await eventMetrics(url) : undefined;
    const result = await runLoad(spec, watched);
    results[id] = result;
    printLoad(result);
    if (before) {
      const after = await eventMetrics(url);
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
  const theirPerCore = perCore(frontendAll, theirServers);
  const ofrepPerCore = perCore(ofrepBulk, ourServers);
  console.log(
    `  per CPU-second: OFREP bulk ${fmt(ofrepPerCore)} (evaluation ${fmt(perCore(ofrepBulk, ['evaluation']))}), Unleash ${fmt(theirPerCore)}; ratio per core ${ratio(ofrepPerCore, theirPerCore)} (target ≥ 8×)`,
  );
  if (measured(ofrepBulk) && measured(frontendAll)) {
    figures.push(
      {
        name: 'all flags: OFREP bulk / Unleash req/s',
        value: ratio(ofrepBulk.requestsPerSecond, frontendAll.requestsPerSecond),
        target: '≥ 8×',
        met: ofrepBulk.requestsPerSecond >= 8 * frontendAll.requestsPerSecond,
      },
      {
        name: 'all flags: OFREP bulk / Unleash per core',
        value: `${ratio(ofrepPerCore, theirPerCore)} (${fmt(ofrepPerCore)} vs ${fmt(theirPerCore)} req/CPU-s)`,
        target: '≥ 8×',
        met: ofrepPerCore >= 8 * theirPerCore,
      },
      { name: 'all flags: OFREP bulk p99', value: `${fmt(ofrepBulk.p99, 2)} ms`, target: '≤ 10 ms', met: ofrepBulk.p99 <= 10 },
    );
  }

  console.log(`\n— 1b. All flags, compressed as negotiated (Accept-Encoding of Chromium's fetch, then of Node's fetch) —`);
  const bulkCompressed = async (id: string, acceptEncoding: string, coding: string) =>
    measure(
      id,
      {
        title: `ToggleMaster OFREP bulk, ${coding} (Accept-Encoding: ${acceptEncoding})`,
        url: ours.url,
        path: '/ofrep/v1/evaluate/flags',
        method: 'POST',
        headers: { ...ourHeaders, 'accept-encoding': acceptEncoding },
        body,
      },
      ours.watched,
      true,
    );
  const ofrepBr = await bulkCompressed('allFlags.ofrepBr', browserAcceptEncoding, 'br');
  const ofrepGzip = await bulkCompressed('allFlags.ofrepGzip', nodeFetchAcceptEncoding, 'gzip');
  for (const [coding, run] of [
    ['br', ofrepBr],
    ['gzip', ofrepGzip],
  ] as const) {
    if (!measured(run) || !measured(frontendAll)) continue;
    const ours = perCore(run, ourServers);
    console.log(
      `  ${coding}: ${ratio(run.requestsPerSecond, frontendAll.requestsPerSecond)} of Unleash's req/s, per core ${ratio(ours, theirPerCore)}; ${fmt(run.bytesPerResponse)} B/resp vs ${fmt(ofrepBulk.bytesPerResponse)} uncompressed`,
    );
    figures.push({
      name: `all flags: OFREP bulk ${coding} / Unleash per core`,
      value: `${ratio(ours, theirPerCore)} (${fmt(run.requestsPerSecond)} req/s, ${fmt(run.bytesPerResponse)} B/resp)`,
      target: '≥ 8×',
      met: ours >= 8 * theirPerCore,
    });
  }

  console.log(`\n— 1c. All flags, a client that already has the answer (If-None-Match: the current ETag → 304) —`);
  const current = await fetch(`${ours.url}/ofrep/v1/evaluate/flags`, { method: 'POST', headers: ourHeaders, body });
  await current.arrayBuffer();
  const etag = current.headers.get('etag') ?? '';
  const notModified = await measure(
    'allFlags.ofrep304',
    {
      title: 'ToggleMaster OFREP bulk, If-None-Match → 304',
      url: ours.url,
      path: '/ofrep/v1/evaluate/flags',
      method: 'POST',
      headers: { ...ourHeaders, 'if-none-match': etag },
      body,
      expectStatus: 304,
    },
    ours.watched,
    true,
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
  if (measured(ofrepOne) && measured(basePost))
    figures.push(
      {
        name: 'one flag: OFREP / bare fastify POST',
        value: ratio(ofrepOne.requestsPerSecond, basePost.requestsPerSecond),
        target: '≥ 0.6×',
        met: ofrepOne.requestsPerSecond >= 0.6 * basePost.requestsPerSecond,
      },
      { name: 'one flag: OFREP p99', value: `${fmt(ofrepOne.p99, 2)} ms`, target: '≤ 5 ms', met: ofrepOne.p99 <= 5 },
    );
  if (measured(notModified) && measured(basePost)) {
    console.log(
      `  all flags, 304 path: ${ratio(notModified.requestsPerSecond, basePost.requestsPerSecond)} of the POST baseline, p99 ${fmt(notModified.p99, 2)} ms (target ≥ 0.6×, p99 ≤ 5 ms)`,
    );
    figures.push(
      {
        name: 'all flags 304 / bare fastify POST',
        value: `${ratio(notModified.requestsPerSecond, basePost.requestsPerSecond)} (${fmt(notModified.requestsPerSecond)} vs ${fmt(basePost.requestsPerSecond)} req/s)`,
        target: '≥ 0.6×',
        met: notModified.requestsPerSecond >= 0.6 * basePost.requestsPerSecond,
      },
      { name: 'all flags 304 p99', value: `${fmt(notModified.p99, 2)} ms`, target: '≤ 5 ms', met: notModified.p99 <= 5 },
    );
  }

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
  const rotOfrepBr = await measure(
    'rotating.ofrepBulkBr',
    {
      title: `ToggleMaster OFREP bulk, br (each answer compressed anew)`,
      url: ours.url,
      method: 'POST',
      headers: { ...ourHeaders, 'accept-encoding': browserAcceptEncoding },
      rotate: bulkBodies,
    },
    ours.watched,
    true,
  );
  console.log(
    `  ratio ours/theirs: all flags OFREP ${ratio(rotOfrepBulk.requestsPerSecond, rotFrontend.requestsPerSecond)}, GET bulk ${ratio(rotGetBulk.requestsPerSecond, rotFrontend.requestsPerSecond)}, OFREP br ${ratio(rotOfrepBr.requestsPerSecond, rotFrontend.requestsPerSecond)}; one flag ${ratio(rotOfrepOne.requestsPerSecond, rotFrontendOne.requestsPerSecond)}`,
  );
  if (measured(rotOfrepBulk) && measured(rotFrontend)) {
    const rotTheirs = perCore(rotFrontend, theirServers);
    figures.push(
      {
        name: 'rotating users: OFREP bulk / Unleash per core',
        value: ratio(perCore(rotOfrepBulk, ourServers), rotTheirs),
        target: '≥ 8×',
        met: perCore(rotOfrepBulk, ourServers) >= 8 * rotTheirs,
      },
      ...(measured(rotOfrepBr)
        ? [
            {
              name: 'rotating users: OFREP bulk br / Unleash per core',
              value: `${ratio(perCore(rotOfrepBr, ourServers), rotTheirs)} (${fmt(rotOfrepBr.bytesPerResponse)} B/resp)`,
              target: '≥ 8×',
              met: perCore(rotOfrepBr, ourServers) >= 8 * rotTheirs,
            },
          ]
        : []),
    );
  }

  if (ours.edgeShapes && ours.edgeShapes.length > 0) {
    console.log(`\n— 4. Unleash Edge's dataset shapes (its published /api/frontend figures on 1 CPU; another machine) —`);
    for (const { shape, sdkKey } of ours.edgeShapes) {
      const headers = { ...json, 'x-api-key': sdkKey };
      const runs = [
        ['plain', {}],
        ['gzip', { 'accept-encoding': 'gzip' }],
      ] as const;
      for (const [coding, extra] of runs) {
        const run = await measure(
          `edge.${shape.project}.${coding}`,
          {
            title: `ToggleMaster OFREP bulk, ${shape.flags} flags${coding === 'gzip' ? ', Accept-Encoding: gzip (as hey sends)' : ''}`,
            url: ours.url,
            path: '/ofrep/v1/evaluate/flags',
            method: 'POST',
            headers: { ...headers, ...extra },
            body,
          },
          ours.watched,
          true,
        );
        if (!measured(run)) continue;
        const evaluationOnly = perCore(run, ['evaluation']);
        console.log(
          `  ${shape.flags} flags ${coding}: ${fmt(evaluationOnly)} req per CPU-second of the evaluation process (Edge published ${fmt(shape.edgePerCpu)} req/s on 1 CPU)`,
        );
        figures.push({
          name: `Edge shape ${shape.flags} flags${coding === 'gzip' ? ', Accept-Encoding: gzip' : ''}: req per evaluation CPU-s`,
          value: `${fmt(evaluationOnly)} (Edge: ${fmt(shape.edgePerCpu)}/CPU, another machine; ${fmt(run.bytesPerResponse)} B/resp)`,
        });
      }
    }
  } else {
    console.log(`\n— 4. Unleash Edge's dataset shapes: not prepared (prepareEdgeShapes) —`);
  }

  console.log('\n— HTTP figures —');
  printFigures(figures);
  return { runs: results, figures };
}
