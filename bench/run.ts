/**
 * `npm run bench` — every benchmark, by itself, on this machine: it installs the peer when missing, starts
 * ToggleMaster as production runs it (one process per role, PostgreSQL, Redis, the SQS stand-in), unleash-server
 * 8.x and a bare fastify baseline, runs the measurements, prints them, and stops everything it started (also on
 * failure and Ctrl-C). Parts can be chosen: `npm run bench -- http propagation` (default: all).
 *
 *   engine       bench/engine/engine.bench.ts (in-process engine vs unleash-client), as a child process
 *   http         all flags / one flag / rotating contexts vs Unleash's Frontend API and the baseline
 *   propagation  a rule change until two evaluation instances serve it (100 changes)
 *   coldstart    spawn → /readyz 200 for every role
 *   browser      the official web provider in Chromium: a toggle until the page's ConfigurationChanged (50 toggles)
 *   streams      10,000 open OFREP event streams on one evaluation instance: its RSS, and change → every stream
 *   memory       evaluation RSS idle, with 10,000 and with 100,000 flags (BENCH_MEMORY_FLAGS), started as the image runs it
 *   pipeline     bench/pipeline.bench.ts (events from POST /evaluate to DynamoDB, 1/2/4 workers, SQS cost)
 *   release      bench/release.bench.ts (guardrails: 10 harmful releases rolled back, 20 equal ones not, time to rollback)
 *   targeting    bench/targeting-scale.bench.ts: a 100,000-key segment, a flag of 1,000 rules, 10,000 segments — memory,
 *                compile, evaluation time, propagation of a change to the big segment
 *   eventcost    bench/event-cost.bench.ts: SQS requests and DynamoDB units per million evaluations, from the stand-ins'
 *                request logs, at 100 / 1,000 / 10,000 evaluations/s per instance, 1 and 20 instances, in dollars
 *   partitions   bench/partitions.bench.ts: the counter-item keys of an hour at 1M evaluations/s against DynamoDB's
 *                per-partition limits (1,000 WCU/s, 3,000 RCU/s)
 *   provider     the in-process OpenFeature provider: getBooleanValue/s vs unleash-client isEnabled (a child process,
 *                bench/engine/provider-throughput.bench.ts), and a flag toggle until the provider's ConfigurationChanged
 *                (50 toggles, with the stream and with polling; bench/provider.bench.ts)
 *
 * Environment: BENCH_DURATION (s, default 15), BENCH_WARMUP (s, 5), BENCH_CONNECTIONS (50), BENCH_PROFILE=1 (run the
 * evaluation process of the HTTP benchmarks under --cpu-prof; the profile lands in the log folder), BENCH_ONLY (a regular
 * expression over the HTTP run ids), BENCH_EVENTS=off (evaluation without events, to see their cost),
 * BENCH_PRODUCT_DIR (another checkout of the product to drive, e.g. one with a candidate fix).
 */
import path from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { runColdStart, type ColdStartReport } from './coldstart.bench.ts';
import { prepareEdgeShapes, prepareHttp, runHttpBenchmarks, type HttpSummary, type PreparedEdgeShape } from './http.bench.ts';
import { fmt } from './lib/load.ts';
import {
  baseEnvironment,
  freePort,
  installSignalHandlers,
  logDir,
  pidsOf,
  repoRoot,
  startNode,
  stopEverything,
  waitForHttp,
} from './lib/processes.ts';
import { loadLine, machineLine, printFigures, type Figure } from './lib/report.ts';
import { figuresOfEarlierParts } from './lib/summary.ts';
import { startDynamoStandIn } from './lib/stand-ins.ts';
import { startTogglemaster, untilAdmitted } from './lib/togglemaster.ts';
import { ensurePeerInstalled, peerVersion, startUnleash } from './lib/unleash.ts';
import { flagCount } from './lib/workload.ts';
import { runMemory, type MemoryResult } from './memory.bench.ts';
import { runPipeline, type PipelineResult } from './pipeline.bench.ts';
import { runRelease, type ReleaseResult } from './release.bench.ts';
import { runPropagation, type PropagationResult } from './propagation.bench.ts';
import {
  runProviderPropagation,
  runProviderThroughput,
  type ProviderPropagationResult,
  type ProviderThroughputResult,
} from './provider.bench.ts';
import { runBrowser, type BrowserResult } from './browser.bench.ts';
import { chromiumPath, howToGetChromium } from '../web/e2e/chromium.ts';
import { runStreams, type StreamsResult } from './streams.bench.ts';
import { runEventCost, type EventCostResult } from './event-cost.bench.ts';
import { runTargetingScale, type TargetingScaleResult } from './targeting-scale.bench.ts';
import { runPartitions, type PartitionsResult } from './partitions.bench.ts';

const allParts = [
  'engine',
  'http',
  'propagation',
  'coldstart',
  'browser',
  'streams',
  'memory',
  'pipeline',
  'release',
  'provider',
  'targeting',
  'eventcost',
  'partitions',
] as const;
type Part = (typeof allParts)[number];
const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = asked.filter((a) => !(allParts as readonly string[]).includes(a));
if (unknown.length > 0) {
  console.error(`Unknown part(s): ${unknown.join(', ')}. Parts: ${allParts.join(' ')}`);
  process.exit(2);
}
const parts = new Set<Part>(asked.length > 0 ? (asked as Part[]) : allParts);

installSignalHandlers();

interface Results {
  date: string;
  machine: string;
  engine?: string;
  http?: HttpSummary;
  propagation?: PropagationResult;
  coldStart?: ColdStartReport;
  browser?: BrowserResult;
  streams?: StreamsResult;
  memory?: MemoryResult;
  pipeline?: PipelineResult;
  release?: ReleaseResult;
  eventCost?: EventCostResult;
  targeting?: TargetingScaleResult;
  partitions?: PartitionsResult;
  provider?: { throughput?: ProviderThroughputResult; propagation?: ProviderPropagationResult };
  /** Every figure of the run with its target, as the closing table prints them. */
  figures?: Figure[];
}

async function runEngine(): Promise<string> {
  const child = startNode('engine-bench', path.join(repoRoot, 'bench', 'engine', 'engine.bench.ts'), [], {
    env: baseEnvironment(),
    onStdoutLine: (line) => console.log(`  ${line}`),
  });
  const code = await child.exited;
  if (code !== 0) throw new Error(`the engine benchmark failed (${code}):\n${child.tail()}`);
  return /ratio ours\/theirs\s*:\s*([0-9.]+)×/.exec(child.tail())?.[1] ?? '?';
}

async function main(): Promise<Results> {
  const results: Results = { date: new Date().toISOString(), machine: machineLine() };
  console.log(`ToggleMaster benchmarks — ${results.date}`);
  console.log(`machine: ${results.machine}`);
  console.log(`parts: ${[...parts].join(', ')}; logs of every process: ${logDir}`);
  if (parts.has('engine') || parts.has('http') || parts.has('provider')) ensurePeerInstalled();

  if (parts.has('engine')) {
    console.log(`\n=== Engine (in process): ToggleMaster evaluateFlag vs unleash-client isEnabled === (${loadLine()})`);
    const ratio = await runEngine();
    results.engine = ratio;
    console.log(`  engine ratio ${ratio}× (target ≥ 4×: ${Number(ratio) >= 4 ? 'met' : 'MISSED'})`);
  }
  if (parts.has('provider')) {
    // CPU-bound, in a process of its own, before the platform starts (nothing else of the benchmark runs meanwhile).
    console.log(`\n=== Provider (in process): OpenFeature getBooleanValue vs unleash-client isEnabled === (${loadLine()})`);
    const throughput = await runProviderThroughput();
    results.provider = { throughput };
    for (const set of throughput.sets)
      console.log(`  provider ratio ("${set.name}") ${set.ratio.toFixed(2)}× (target ≥ 4×: ${set.met ? 'met' : 'MISSED'})`);
  }

  const platformParts = (['http', 'propagation', 'coldstart', 'browser', 'streams', 'provider', 'targeting', 'memory'] as const).filter(
    (p) => parts.has(p),
  );
  if (platformParts.length > 0) {
    console.log(`\n=== Starting ToggleMaster (migrate, auth, flags, targeting, evaluation × 2, SQS stand-in) ===`);
    const profile = process.env.BENCH_PROFILE === '1';
    // BENCH_EVENTS=off: the evaluation processes run without events (EVENTS_TRANSPORT=off), to see what events cost.
    const tm = await startTogglemaster({
      name: 'main',
      evaluations: 0,
      ...(process.env.BENCH_EVENTS === 'off' ? { env: { EVENTS_TRANSPORT: 'off' } } : {}),
    });
    const startEvaluation = (name: string) =>
      tm.startRole('evaluation', { name, ...(profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${logDir}`] } : {}) });
    let evaluation = await startEvaluation('evaluation-1');
    const second = await tm.startRole('evaluation', { name: 'evaluation-2' });
    console.log(
      `  ready: auth ${fmt(tm.auth.readyMs)} ms, flags ${fmt(tm.flags.readyMs)} ms, targeting ${fmt(tm.targeting.readyMs)} ms, evaluation ${fmt(evaluation.readyMs)} ms after spawn`,
    );
    const redisPids = pidsOf(/^redis-server$/);
    let edgeShapes: PreparedEdgeShape[] = [];

    if (parts.has('http')) {
      console.log(`\n=== Starting unleash-server ${peerVersion('unleash-server')} (its own database) and the fastify baseline ===`);
      const peer = await startUnleash();
      console.log(`  unleash-server ready after ${fmt(peer.readyMs)} ms`);
      const baselinePort = await freePort();
      const baseline = startNode('baseline', path.join(repoRoot, 'bench', 'baseline', 'server.ts'), [], {
        env: { ...baseEnvironment(), NODE_ENV: 'production', PORT: String(baselinePort) },
      });
      await waitForHttp(`http://127.0.0.1:${baselinePort}/readyz`, { child: baseline });
      const agreement = await prepareHttp(tm, peer, [evaluation.url, second.url]);
      console.log(`  workload: ${flagCount} flags in both; ${agreement}`);
      edgeShapes = await prepareEdgeShapes(tm, [evaluation.url, second.url]);
      console.log(
        `  Unleash Edge's dataset shapes: ${edgeShapes.map((e) => `${e.shape.flags} flags`).join(' and ')}, each in a project of its own`,
      );
      console.log(`\n=== HTTP === (${loadLine()})`);
      let httpRuns = 0;
      results.http = await runHttpBenchmarks({
        ours: {
          url: evaluation.url,
          // Each of our HTTP runs on an evaluation process of its own (the first one's place: propagation and the
          // parts after it use the last one).
          fresh: async () => {
            const previous = evaluation;
            evaluation = await startEvaluation(`evaluation-1-run-${++httpRuns}`);
            await previous.child.stop();
            await untilAdmitted(evaluation.url, tm.sdkKey);
            return { url: evaluation.url, pid: evaluation.child.pid };
          },
          sdkKey: tm.sdkKey,
          sqs: tm.sqs,
          edgeShapes,
          watched: [
            { name: 'evaluation', pids: [evaluation.child.pid] },
            { name: 'auth', pids: [tm.auth.child.pid] },
            { name: 'redis', pids: redisPids },
            { name: 'sqs stand-in', pids: [tm.sqs.child.pid] },
          ],
        },
        unleash: {
          peer,
          watched: [
            { name: 'unleash-server', pids: [peer.child.pid] },
            { name: 'postgres (all)', pids: pidsOf(/^postgres/) },
          ],
        },
        baseline: { url: `http://127.0.0.1:${baselinePort}`, watched: [{ name: 'fastify', pids: [baseline.pid] }] },
      });
      await Promise.all([peer.child.stop(), baseline.stop()]);
      if (profile) {
        await evaluation.child.stop();
        console.log(`  CPU profile of the evaluation process: ${logDir}/*.cpuprofile`);
        return results;
      }
    }
    if (parts.has('propagation')) {
      console.log(`\n=== Propagation (real Redis, two evaluation instances) === (${loadLine()})`);
      results.propagation = await runPropagation(tm, [evaluation, second]);
    }
    if (parts.has('coldstart')) {
      console.log(`\n=== Cold start (spawn → /readyz 200) === (${loadLine()})`);
      const dynamo = await startDynamoStandIn('coldstart-dynamodb');
      const { createDynamoClient } = await import('../shared/dynamo/client.ts');
      const { ensureAnalyticsTable } = await import('../shared/dynamo/analytics-table.ts');
      const client = createDynamoClient({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint });
      await ensureAnalyticsTable(client, 'ToggleMasterAnalytics');
      client.destroy();
      await tm.sqs.clear();
      const withDynamo = startTogglemasterRoleEnv(tm, dynamo.endpoint);
      results.coldStart = await runColdStart(withDynamo, [
        'auth',
        'flags',
        'targeting',
        'evaluation',
        'analytics',
        'analytics-worker',
        'release-worker',
        'webhook-worker',
        'console',
      ]);
      await dynamo.child.stop();
    }
    if (parts.has('browser')) {
      console.log(`\n=== Browser (the OFREP web provider in Chromium, event stream) === (${loadLine()})`);
      // Asked for by name, a missing browser fails the run; in a run of every part, the part is left out, said so.
      if (existsSync(chromiumPath) || asked.includes('browser')) results.browser = await runBrowser(tm);
      else console.log(`  skipped: no Chromium at ${chromiumPath}; ${howToGetChromium}`);
    }
    if (parts.has('streams')) {
      console.log(
        `\n=== Streams (${fmt(Number(process.env.BENCH_STREAMS ?? 10_000))} OFREP event streams on one evaluation instance) === (${loadLine()})`,
      );
      results.streams = await runStreams(tm);
    }
    if (parts.has('provider')) {
      console.log(`\n=== Provider propagation (flags API → the provider's ConfigurationChanged) === (${loadLine()})`);
      results.provider = { ...results.provider, propagation: await runProviderPropagation(tm, evaluation) };
    }
    if (parts.has('targeting')) {
      console.log(`\n=== Big targeting data (a 100,000-key segment, 1,000 rules, 10,000 segments) === (${loadLine()})`);
      results.targeting = await runTargetingScale(tm);
    }
    if (parts.has('memory')) {
      console.log(
        `\n=== Memory (evaluation RSS idle and with ${process.env.BENCH_MEMORY_FLAGS ?? '10,000 and 100,000'} flags) === (${loadLine()})`,
      );
      // The flags the parts before it created (one each for propagation, browser, streams and provider).
      const existing =
        (parts.has('http') ? flagCount : 0) +
        edgeShapes.reduce((sum, e) => sum + e.shape.flags, 0) +
        [parts.has('propagation'), results.browser, results.streams, results.provider?.propagation].filter(Boolean).length;
      results.memory = await runMemory(tm, existing);
    }
    await tm.stop();
  }

  if (parts.has('pipeline')) {
    results.pipeline = await runPipeline();
  }
  if (parts.has('release')) {
    results.release = await runRelease();
  }
  if (parts.has('eventcost')) {
    console.log(`\n=== Event path cost per million evaluations (SQS and DynamoDB stand-ins' request logs) === (${loadLine()})`);
    results.eventCost = await runEventCost();
  }
  if (parts.has('partitions')) {
    console.log(`\n=== DynamoDB partitions: the counter items of an hour at 1,000,000 evaluations/s, replayed === (${loadLine()})`);
    results.partitions = await runPartitions();
  }
  results.figures = [
    ...figuresOfEarlierParts(results),
    ...(results.http?.figures ?? []),
    ...(results.coldStart?.figures ?? []),
    ...(results.memory?.figures ?? []),
    ...(results.targeting?.figures ?? []),
    ...(results.eventCost?.figures ?? []),
    ...(results.partitions?.figures ?? []),
  ];
  console.log(`\n=== Every figure of this run, with its target (${results.date}) ===`);
  printFigures(results.figures);
  return results;
}

/** The same platform, with the DynamoDB stand-in's endpoint added to the environment of roles started from now on. */
function startTogglemasterRoleEnv(tm: Awaited<ReturnType<typeof startTogglemaster>>, dynamoEndpoint: string): typeof tm {
  return {
    ...tm,
    startRole: (role, options = {}) =>
      tm.startRole(role, { ...options, env: { ...options.env, AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint } }),
  };
}

let exitCode = 0;
try {
  const results = await main();
  const file = path.join(logDir, 'results.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nAll figures as JSON: ${file}`);
} catch (error) {
  exitCode = 1;
  console.error(`\nBenchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
} finally {
  console.log('Stopping everything the benchmark started…');
  await stopEverything();
}
process.exit(exitCode);
