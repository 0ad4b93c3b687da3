/**
 * Events pipeline benchmark (issue 4): evaluation events from `POST /evaluate` to exact counts in DynamoDB.
 *
 *   npm run bench -- pipeline        (or: node bench/pipeline.bench.ts)
 *
 * Starts its own ToggleMaster (migrate, auth, flags, targeting, evaluation, analytics), the SQS stand-in and the
 * DynamoDB stand-in (dynalite, in memory), each in its own process, and the analytics table as
 * shared/dynamo/analytics-table.ts creates it. Then:
 *
 * 1. Throughput with 1, 2 and 4 workers: N evaluations of a flag of the phase's own go through POST /evaluate with
 *    no worker running, so their events wait in the queue; then W `analytics-worker` processes start and drain it.
 *    The rate is counted from the first count seen to the last (GET /analytics/stats of the analytics service, every
 *    250 ms), so process start-up is not in it; the count must end exactly at N and stay there. The CPU of every
 *    process during the drain shows which one is the ceiling.
 * 2. Cost: SQS requests per million evaluations (from the evaluation service's /metrics,
 *    evaluation_events_queue_requests_total) at 1,000 and 5,000 evaluations/s, with EVENTS_FLUSH_INTERVAL_MS=4000
 *    (the default since issue 19) and 8000; and how long an evaluation takes to show in the counts at each interval
 *    (one worker running, 1,000 evaluations/s). The whole event path's cost, receives and DynamoDB included, is
 *    bench/event-cost.bench.ts.
 */
import autocannon from 'autocannon';
import { createDynamoClient } from '../shared/dynamo/client.ts';
import { ensureAnalyticsTable } from '../shared/dynamo/analytics-table.ts';
import platformNames from '../shared/contracts/platform-names.json' with { type: 'json' };
import { eventMetrics } from './http.bench.ts';
import { fmt } from './lib/load.ts';
import { cpuSeconds, installSignalHandlers, logDir, sleep, stopEverything } from './lib/processes.ts';
import { loadLine, machineLine, percentileOf, target } from './lib/report.ts';
import { startDynamoStandIn, type DynamoStandIn } from './lib/stand-ins.ts';
import { expectStatus, startTogglemaster, type RunningRole, type Togglemaster } from './lib/togglemaster.ts';

const events = Number(process.env.BENCH_PIPELINE_EVENTS ?? 200_000);
/** Flush interval of the producing instance in the throughput phase: ~2,000 events per message at ~20,000/s. */
const drainFlushMs = 100;
const workerCounts = (process.env.BENCH_PIPELINE_WORKERS ?? '1,2,4').split(',').map(Number);
const costSeconds = Number(process.env.BENCH_COST_DURATION ?? 30);
const costRates = [1_000, 5_000];
/** The default (4 s: counts within 5 s) and the operator's longer option (fewer SQS requests, later counts). */
const intervals = [4_000, 8_000];

export interface DrainResult {
  workers: number;
  events: number;
  counted: number;
  exact: boolean;
  seconds: number;
  eventsPerSecond: number;
  cpu: Record<string, number>;
}

export interface CostResult {
  intervalMs: number;
  rate: number;
  evaluations: number;
  evaluationsPerSecond: number;
  sqsRequests: number;
  requestsPerMillion: number;
  met: boolean;
}

export interface PipelineResult {
  drains: DrainResult[];
  costs: CostResult[];
  countLatency: { intervalMs: number; p50: number; max: number }[];
}

async function total(tm: Togglemaster, analytics: RunningRole, flagKey: string): Promise<number> {
  const answer = await tm.api<{ total: number }>(
    'GET',
    `${analytics.url}/analytics/stats?flagKey=${flagKey}&environment=production&granularity=hour`,
  );
  expectStatus('analytics stats', answer, 200);
  return answer.body.total;
}

/** POST /evaluate of one flag: `amount` requests as fast as 50 connections go, or `rate` per second for `seconds`. */
async function evaluations(
  url: string,
  sdkKey: string,
  flagKey: string,
  load: { amount: number } | { rate: number; seconds: number },
): Promise<number> {
  const result = await autocannon({
    url: `${url}/evaluate`,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': sdkKey },
    body: JSON.stringify({ flagKey, context: { targetingKey: 'user-1', country: 'BR' } }),
    ...('amount' in load
      ? { amount: load.amount, connections: Math.min(50, load.amount) }
      : { overallRate: load.rate, duration: load.seconds, connections: 10 }),
    timeout: 10,
  });
  if (result.non2xx + result.errors > 0) throw new Error(`POST /evaluate: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result['2xx'];
}

/** Waits until the evaluation instance knows a flag just created (the change reaches it through Redis). */
async function untilServed(url: string, sdkKey: string, flagKey: string): Promise<number> {
  const started = performance.now();
  // Every attempt is an evaluation (a 404 FLAG_NOT_FOUND is one too, and is counted): the caller adds them up.
  for (let attempts = 1; ; attempts++) {
    const response = await fetch(`${url}/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': sdkKey },
      body: JSON.stringify({ flagKey, context: { targetingKey: 'warm-up' } }),
    });
    await response.arrayBuffer();
    if (response.status === 200) return attempts;
    if (performance.now() - started > 10_000) throw new Error(`${url} does not serve ${flagKey}`);
    await sleep(20);
  }
}

/** Creates a boolean flag and waits until the instance serves it; answers how many evaluations that took. */
async function createFlag(tm: Togglemaster, key: string, instance: RunningRole): Promise<number> {
  expectStatus(
    'flag',
    await tm.api('POST', `${tm.flags.url}/flags`, { key, name: key, type: 'boolean', environments: { production: { enabled: true } } }),
    201,
  );
  return untilServed(instance.url, tm.sdkKey, key);
}

async function untilSent(evaluation: RunningRole, expected: number): Promise<void> {
  const started = performance.now();
  while ((await eventMetrics(evaluation.url)).sent < expected) {
    if (performance.now() - started > 60_000) throw new Error('the evaluation service did not send its events within 60 s');
    await sleep(200);
  }
}

async function drain(
  tm: Togglemaster,
  evaluation: RunningRole,
  analytics: RunningRole,
  dynamo: DynamoStandIn,
  workers: number,
  sentBefore: number,
): Promise<DrainResult> {
  const flagKey = `pipe-w${workers}`;
  // The workers start first and wait, warm (the stand-in holds back ReceiveMessage), while the queue fills.
  await tm.sqs.pause();
  const started = await Promise.all(
    Array.from({ length: workers }, (_, i) => tm.startRole('analytics-worker', { name: `pipeline-worker-${workers}-${i + 1}` })),
  );
  const warmUp = await createFlag(tm, flagKey, evaluation);
  const produced = (await evaluations(evaluation.url, tm.sdkKey, flagKey, { amount: events })) + warmUp;
  await untilSent(evaluation, sentBefore + produced);
  await sleep(500);
  const depth = await tm.sqs.depth();
  const watched: Record<string, number[]> = {
    [`worker${workers > 1 ? 's (sum)' : ''}`]: started.map((w) => w.child.pid),
    dynalite: [dynamo.child.pid],
    'sqs stand-in': [tm.sqs.child.pid],
  };
  const cpuOf = () =>
    Object.fromEntries(Object.entries(watched).map(([name, pids]) => [name, pids.reduce((s, pid) => s + cpuSeconds(pid), 0)]));
  const cpuBefore = cpuOf();
  const resumed = performance.now();
  await tm.sqs.resume();
  let counted: number;
  for (;;) {
    counted = await total(tm, analytics, flagKey);
    const at = performance.now();
    if (process.env.BENCH_TRACE)
      console.log(`    ${fmt((at - resumed) / 1000, 2)} s: ${counted} counted, queue ${JSON.stringify(await tm.sqs.depth())}`);
    if (counted >= produced || at - resumed > 600_000) break;
    await sleep(250);
  }
  const seconds = (performance.now() - resumed) / 1000;
  const cpuAfter = cpuOf();
  await sleep(3_000);
  const settled = await total(tm, analytics, flagKey);
  // Stopped first: a worker deletes processed messages ten at a time and the rest when it stops (and the stand-in
  // counts a processed message not yet deleted as held), so the queue is empty only then.
  await Promise.all(started.map((w) => w.child.stop()));
  const left = await tm.sqs.depth();
  const cpu = Object.fromEntries(Object.entries(cpuAfter).map(([name, after]) => [name, ((after - cpuBefore[name]!) / seconds) * 100]));
  const result: DrainResult = {
    workers,
    events: produced,
    counted: settled,
    exact: settled === produced && Object.values(left).every((n) => n === 0),
    seconds,
    eventsPerSecond: counted / seconds,
    cpu,
  };
  const messages = depth[platformNames.queues.evaluationEvents] ?? 0;
  console.log(
    `  ${workers} worker${workers > 1 ? 's' : ' '}: ${fmt(produced)} events in ${fmt(messages)} messages, counted in ${fmt(seconds, 1)} s → ${fmt(result.eventsPerSecond).padStart(6)} events/s; ` +
      `count ${fmt(settled)} ${result.exact ? '(exact; queue and DLQ empty)' : `(NOT exact: expected ${fmt(produced)}; queues ${JSON.stringify(left)})`}`,
  );
  console.log(
    `            cpu during the drain: ${Object.entries(cpu)
      .map(([name, pct]) => `${name} ${fmt(pct)}%`)
      .join(' · ')}`,
  );
  return result;
}

async function cost(
  tm: Togglemaster,
  intervalMs: number,
): Promise<{ costs: CostResult[]; latency: { intervalMs: number; p50: number; max: number } }> {
  const evaluation = await tm.startRole('evaluation', {
    name: `pipeline-evaluation-${intervalMs}ms`,
    env: { EVENTS_FLUSH_INTERVAL_MS: String(intervalMs) },
  });
  const flagKey = `pipe-cost-${intervalMs}`;
  await createFlag(tm, flagKey, evaluation);
  await evaluations(evaluation.url, tm.sdkKey, flagKey, { amount: 1_000 });
  const costs: CostResult[] = [];
  for (const rate of costRates) {
    await tm.sqs.clear();
    // Whole flush intervals: start right after a flush, read the counters right after the last one.
    await sleep(intervalMs + 200);
    const before = await eventMetrics(evaluation.url);
    const started = performance.now();
    const done = await evaluations(evaluation.url, tm.sdkKey, flagKey, { rate, seconds: costSeconds });
    await sleep(intervalMs + 500);
    const after = await eventMetrics(evaluation.url);
    const seconds = (performance.now() - started) / 1000 - (intervalMs + 500) / 1000;
    const sqsRequests = after.queueRequests - before.queueRequests;
    const perMillion = (sqsRequests / done) * 1e6;
    const result = {
      intervalMs,
      rate,
      evaluations: done,
      evaluationsPerSecond: done / seconds,
      sqsRequests,
      requestsPerMillion: perMillion,
      met: perMillion <= 200,
    };
    costs.push(result);
    console.log(
      `  flush every ${fmt(intervalMs / 1000)} s, ${fmt(rate)} evaluations/s: ${fmt(done)} evaluations (${fmt(result.evaluationsPerSecond)}/s), ${fmt(sqsRequests)} SQS requests → ` +
        `${fmt(perMillion)} per million (target ≤ 200: ${target(result.met)})`,
    );
  }
  // Latency of counts: one worker running, 1,000 evaluations/s in the background, a marker evaluation timed until
  // the analytics API counts it.
  await tm.sqs.clear();
  const worker = await tm.startRole('analytics-worker', { name: `pipeline-latency-worker-${intervalMs}ms` });
  const analytics = analyticsService!;
  const background = evaluations(evaluation.url, tm.sdkKey, flagKey, { rate: 1_000, seconds: 10 * (intervalMs / 1000) + 15 });
  const marker = `pipe-marker-${intervalMs}`;
  const warmUp = await createFlag(tm, marker, evaluation);
  // The warm-up evaluations of the marker flag are counted first; the timing starts from there.
  while ((await total(tm, analytics, marker)) < warmUp) await sleep(100);
  const markerBase = warmUp;
  const delays: number[] = [];
  for (let i = 1; i <= 5; i++) {
    const sent = performance.now();
    await evaluations(evaluation.url, tm.sdkKey, marker, { amount: 1 });
    while ((await total(tm, analytics, marker)) < markerBase + i) {
      if (performance.now() - sent > 60_000) throw new Error('a marker evaluation was not counted within 60 s');
      await sleep(50);
    }
    delays.push(performance.now() - sent);
    await sleep(Math.random() * intervalMs);
  }
  await background;
  await worker.child.stop();
  await evaluation.child.stop();
  const latency = { intervalMs, p50: percentileOf(delays, 0.5), max: Math.max(...delays) };
  console.log(
    `  flush every ${fmt(intervalMs / 1000)} s: an evaluation is in the counts after ${fmt(latency.p50 / 1000, 1)} s (median of 5), at most ${fmt(latency.max / 1000, 1)} s`,
  );
  return { costs, latency };
}

let analyticsService: RunningRole | undefined;

export async function runPipeline(): Promise<PipelineResult> {
  console.log(`\n=== Events pipeline: POST /evaluate → SQS stand-in → analytics-worker × W → dynalite === (${loadLine()})`);
  const dynamo = await startDynamoStandIn('pipeline-dynamodb');
  const client = createDynamoClient({ AWS_REGION: platformNames.awsRegion, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint });
  await ensureAnalyticsTable(client, platformNames.dynamodb.analyticsTable);
  client.destroy();
  const tm = await startTogglemaster({ name: 'pipeline', evaluations: 0, dynamoEndpoint: dynamo.endpoint });
  const evaluation = await tm.startRole('evaluation', {
    name: 'pipeline-evaluation',
    env: { EVENTS_FLUSH_INTERVAL_MS: String(drainFlushMs) },
  });
  analyticsService = await tm.startRole('analytics', { name: 'pipeline-analytics' });

  console.log(
    `\n— Throughput with ${workerCounts.join(', ')} workers (${fmt(events)} events each, queued first — the producing instance flushes every ${drainFlushMs} ms, ~2,000 events a message — then drained) —`,
  );
  const drains: DrainResult[] = [];
  for (const workers of workerCounts) {
    const sentBefore = (await eventMetrics(evaluation.url)).sent;
    drains.push(await drain(tm, evaluation, analyticsService, dynamo, workers, sentBefore));
  }
  await evaluation.child.stop();

  console.log(`\n— SQS requests per million evaluations (POST /evaluate, ${costSeconds} s per rate) —`);
  const costs: CostResult[] = [];
  const countLatency: PipelineResult['countLatency'] = [];
  for (const intervalMs of intervals) {
    const measured = await cost(tm, intervalMs);
    costs.push(...measured.costs);
    countLatency.push(measured.latency);
  }
  await tm.stop();
  await dynamo.child.stop();
  return { drains, costs, countLatency };
}

if (import.meta.main) {
  installSignalHandlers();
  console.log(`Events pipeline benchmark — ${new Date().toISOString()}\nmachine: ${machineLine()}\nlogs of every process: ${logDir}`);
  let code = 0;
  try {
    await runPipeline();
  } catch (error) {
    code = 1;
    console.error(`\nBenchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    await stopEverything();
  }
  process.exit(code);
}
