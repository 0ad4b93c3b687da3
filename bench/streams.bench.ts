/**
 * Streams: one evaluation instance holding 10,000 open OFREP event streams (GET /ofrep/v1/event-stream, one
 * loopback socket each, opened by a few client processes — bench/streams/sse-client.ts — with a ramp), its RSS
 * before and after; then 10 flag changes through the flags API, each timed from the API's 2xx to every stream
 * receiving its event. The clients' CPU is measured too, to show they were not the bottleneck. Then the same
 * streams on a bare node:http server (bench/baseline/sse-server.ts): what the sockets alone cost a Node process.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fmt } from './lib/load.ts';
import {
  baseEnvironment,
  cpuSeconds,
  freePort,
  logDir,
  repoRoot,
  rssBytes,
  sleep,
  startNode,
  waitForHttp,
  type Child,
} from './lib/processes.ts';
import { percentileOf, target } from './lib/report.ts';
import { expectStatus, type Togglemaster } from './lib/togglemaster.ts';
import type { StreamReceipts } from './streams/sse-client.ts';

const flagKey = 'bench-streams';
const environment = 'production';
const mb = (bytes: number) => bytes / 2 ** 20;
/** CLOCK_MONOTONIC in ms: the clock the client processes stamp events with. */
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

export interface StreamsResult {
  streams: number;
  clientProcesses: number;
  rampSeconds: number;
  rssMb: { before: number; withStreams: number; afterChanges: number; peak: number; growth: number };
  /** Growth of the V8 heap in use and of the memory V8 tracks outside it (buffers), streams open, after the changes. */
  heapGrowthMb: { heapUsed: number; external: number };
  /** RSS growth of a bare node:http server holding the same streams: the floor. */
  baselineGrowthMb: number;
  changes: number;
  fromAnswer: { p50: number; p99: number; max: number };
  fromRequest: { p50: number; p99: number; max: number };
  /** For each change, from its 2xx to the last stream receiving it (ms). */
  lastStreamPerChange: number[];
  /** The service's own histogram (commit → written to the last stream): the bucket bounds (s) of its median and max. */
  serverFanOut: { p50: string; max: string };
  /** Stream × change pairs that never got their event (must be 0). */
  missed: number;
  /** Percent of one core, during the ramp and during the changes (each from its request to its last event). */
  cpu: {
    evaluationRamp: number;
    clientsRamp: number;
    evaluationChanges: number;
    clientsChanges: number;
    busiestClientChanges: number;
    /** CPU time the evaluation process spent per change (notifying every stream, and the rest of its work). */
    evaluationMsPerChange: number;
    /** CPU time the clients spent per change (reading every stream's event): on a small machine, part of the latency. */
    clientsMsPerChange: number;
  };
  met: { memory: boolean; latency: boolean };
}

interface ClientProgress {
  opened: number;
  failed: number;
  closed: number;
  events: number;
}

function openFileLimit(pid: number): number {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  return match?.[1] === 'unlimited' ? Infinity : Number(match?.[1] ?? NaN);
}

function peakRssBytes(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** The evaluation process's V8 heap and the memory outside it (its /metrics), to tell where RSS growth lies. */
async function heapOf(url: string): Promise<{ heapUsed: number; external: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
  return { heapUsed: metric('nodejs_heap_size_used_bytes'), external: metric('nodejs_external_memory_bytes') };
}

/** The cumulative buckets of the evaluation service's fan-out histogram (commit → written to the last stream). */
async function fanOutBuckets(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return new Map(
    [...text.matchAll(/^ofrep_event_fanout_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} ([0-9.e+-]+)$/gm)].map((m) => [m[1]!, Number(m[2])]),
  );
}

/** The smallest bucket bound holding a share of the observations made between two readings (seconds). */
function bucketBound(before: Map<string, number>, after: Map<string, number>, share: number): string {
  const total = (after.get('+Inf') ?? 0) - (before.get('+Inf') ?? 0);
  for (const [le, count] of after) if (count - (before.get(le) ?? 0) >= share * total) return le;
  return '?';
}

async function until(what: string, check: () => boolean | Promise<boolean>, limitMs: number, everyMs = 5): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > limitMs) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface OpenStreams {
  clientPids: number[];
  rampSeconds: number;
  /** Percent of one core during the ramp. */
  rampCpu: { server: number; clients: number };
  total(field: keyof ClientProgress): number;
  /** Stops the clients, which write what every stream received. */
  stop(): Promise<StreamReceipts[]>;
}

/** Opens `streams` streams to `url` from `clients` processes at `perSecond` in all; resolves once all are open. */
async function openStreams(
  name: string,
  url: string,
  serverPid: number,
  { streams, clients, perSecond }: { streams: number; clients: number; perSecond: number },
): Promise<OpenStreams> {
  const progress: ClientProgress[] = [];
  const children: { child: Child; resultsFile: string }[] = [];
  for (let i = 0; i < clients; i++) {
    const share = Math.floor(streams / clients) + (i < streams % clients ? 1 : 0);
    const resultsFile = path.join(logDir, `${name}-${i + 1}.json`);
    progress.push({ opened: 0, failed: 0, closed: 0, events: 0 });
    const child = startNode(
      `${name}-${i + 1}`,
      path.join(repoRoot, 'bench', 'streams', 'sse-client.ts'),
      [url, String(share), String(perSecond / clients), resultsFile],
      {
        env: baseEnvironment(),
        onStdoutLine: (line) => {
          if (line.startsWith('{')) progress[i] = JSON.parse(line) as ClientProgress;
        },
      },
    );
    children.push({ child, resultsFile });
  }
  const total = (field: keyof ClientProgress) => progress.reduce((sum, p) => sum + p[field], 0);
  const clientPids = children.map((c) => c.child.pid);
  const started = performance.now();
  const serverCpu = cpuSeconds(serverPid);
  const clientsCpu = clientPids.map((pid) => cpuSeconds(pid));
  await until(
    `${streams} open streams`,
    () => {
      if (total('failed') > 0 || total('closed') > 0)
        throw new Error(`streams refused or closed: ${JSON.stringify(progress)}\n${children.map((c) => c.child.tail()).join('\n')}`);
      return total('opened') === streams;
    },
    (streams / perSecond) * 1000 + 60_000,
    20,
  );
  const rampSeconds = (performance.now() - started) / 1000;
  return {
    clientPids,
    rampSeconds,
    rampCpu: {
      server: ((cpuSeconds(serverPid) - serverCpu) / rampSeconds) * 100,
      clients: (clientPids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - clientsCpu[i]!, 0) / rampSeconds) * 100,
    },
    total,
    async stop() {
      await Promise.all(children.map((c) => c.child.stop()));
      return children.map(({ resultsFile }) => JSON.parse(readFileSync(resultsFile, 'utf8')) as StreamReceipts);
    },
  };
}

/** The floor: RSS growth of a bare node:http server while it holds the same number of streams. */
async function baselineGrowth(options: { streams: number; clients: number; perSecond: number }): Promise<number> {
  const port = await freePort();
  const server = startNode('streams-baseline', path.join(repoRoot, 'bench', 'baseline', 'sse-server.ts'), [], {
    env: { ...baseEnvironment(), NODE_ENV: 'production', PORT: String(port) },
  });
  try {
    await waitForHttp(`http://127.0.0.1:${port}/readyz`, { child: server });
    await sleep(2_000);
    const before = rssBytes(server.pid);
    const open = await openStreams('streams-baseline-client', `http://127.0.0.1:${port}/stream`, server.pid, options);
    await sleep(3_000);
    const growth = rssBytes(server.pid) - before;
    await open.stop();
    return growth;
  } finally {
    await server.stop();
  }
}

export async function runStreams(
  tm: Togglemaster,
  options = {
    streams: Number(process.env.BENCH_STREAMS ?? 10_000),
    // One client process a core, at most 4: more only share the same cores and add switching between them.
    clients: Number(process.env.BENCH_STREAMS_CLIENTS ?? Math.min(4, os.availableParallelism())),
    perSecond: Number(process.env.BENCH_STREAMS_RAMP ?? 1_000),
    changes: Number(process.env.BENCH_STREAMS_CHANGES ?? 10),
  },
): Promise<StreamsResult> {
  const { streams, clients, perSecond, changes } = options;
  expectStatus('streams flag', await tm.api('POST', `${tm.flags.url}/flags`, { key: flagKey, name: 'Streams', type: 'boolean' }), 201);
  expectStatus(
    'streams flag on',
    await tm.api('PATCH', `${tm.flags.url}/flags/${flagKey}/environments/${environment}`, { enabled: true }),
    200,
  );

  const evaluation = await tm.startRole('evaluation', { name: 'streams-evaluation' });
  // Every stream is a socket of the evaluation process: its limit must hold them all, with room for the rest.
  const limit = openFileLimit(evaluation.child.pid);
  if (limit < streams + 1_000)
    throw new Error(
      `the evaluation process may open ${limit} files, too few for ${streams} streams: raise it (ulimit -n ${streams + 5_000})`,
    );

  // The stream's address, as the bulk evaluation advertises it to an SDK.
  let streamUrl = '';
  await until(
    'the streams instance to serve the flag and advertise an event stream',
    async () => {
      const response = await fetch(`${evaluation.url}/ofrep/v1/evaluate/flags`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': tm.sdkKey },
        body: '{"context":{"targetingKey":"streams"}}',
      });
      const text = await response.text();
      if (response.status !== 200) return false;
      const answer = JSON.parse(text) as {
        flags: { key: string }[];
        eventStreams?: { type: string; url?: string; endpoint?: { origin?: string; requestUri: string } }[];
      };
      const stream = answer.eventStreams?.find((s) => s.type === 'sse');
      if (!answer.flags.some((f) => f.key === flagKey) || !stream) return false;
      streamUrl = stream.url ?? new URL(stream.endpoint!.requestUri, stream.endpoint!.origin ?? evaluation.url).href;
      return true;
    },
    15_000,
    100,
  );

  await sleep(2_000);
  const before = rssBytes(evaluation.child.pid);
  const heapBefore = await heapOf(evaluation.url);
  const open = await openStreams('streams-client', streamUrl, evaluation.child.pid, { streams, clients, perSecond });
  console.log(
    `  ${fmt(streams)} streams open in ${fmt(open.rampSeconds, 1)} s (${clients} client processes, ramp ${fmt(perSecond)}/s); evaluation RSS ${fmt(mb(before))} MB before, now ${fmt(mb(rssBytes(evaluation.child.pid)))} MB`,
  );
  await sleep(3_000);
  const withStreams = rssBytes(evaluation.child.pid);

  // The changes, one at a time: the next once every stream has had the last one's event.
  const sent: number[] = [];
  const answered: number[] = [];
  // CPU over the busy part of each change (request → every stream has it), not the pauses between them.
  let activeSeconds = 0;
  let evaluationChangesCpu = 0;
  const clientsChangesCpu = open.clientPids.map(() => 0);
  const fanOutBefore = await fanOutBuckets(evaluation.url);
  for (let i = 0; i < changes; i++) {
    const eventsBefore = open.total('events');
    const evaluationCpu = cpuSeconds(evaluation.child.pid);
    const clientsCpu = open.clientPids.map((pid) => cpuSeconds(pid));
    const started = performance.now();
    sent.push(monotonicMs());
    const answer = await tm.api('PATCH', `${tm.flags.url}/flags/${flagKey}/environments/${environment}`, { enabled: i % 2 === 1 });
    answered.push(monotonicMs());
    expectStatus(`change ${i + 1}`, answer, 200);
    await until(`every stream to receive change ${i + 1}`, () => open.total('events') >= eventsBefore + streams, 30_000);
    activeSeconds += (performance.now() - started) / 1000;
    evaluationChangesCpu += cpuSeconds(evaluation.child.pid) - evaluationCpu;
    open.clientPids.forEach((pid, j) => (clientsChangesCpu[j]! += cpuSeconds(pid) - clientsCpu[j]!));
    // Changes a random 200–500 ms apart, after every stream had the last one.
    await sleep(200 + Math.random() * 300);
  }
  const clientsChanges = clientsChangesCpu.map((s) => (s / activeSeconds) * 100);
  const cpu = {
    evaluationRamp: open.rampCpu.server,
    clientsRamp: open.rampCpu.clients,
    evaluationChanges: (evaluationChangesCpu / activeSeconds) * 100,
    clientsChanges: clientsChanges.reduce((sum, c) => sum + c, 0),
    busiestClientChanges: Math.max(...clientsChanges),
    evaluationMsPerChange: (evaluationChangesCpu / changes) * 1000,
    clientsMsPerChange: (clientsChangesCpu.reduce((sum, c) => sum + c, 0) / changes) * 1000,
  };
  await sleep(1_000);
  const afterChanges = rssBytes(evaluation.child.pid);
  const peak = peakRssBytes(evaluation.child.pid);
  const heapAfter = await heapOf(evaluation.url);
  const fanOutAfter = await fanOutBuckets(evaluation.url);
  const serverFanOut = { p50: bucketBound(fanOutBefore, fanOutAfter, 0.5), max: bucketBound(fanOutBefore, fanOutAfter, 1) };

  // Each event a stream received belongs to the last change sent before it arrived.
  const fromAnswer: number[] = [];
  const fromRequest: number[] = [];
  const lastOfChange = sent.map(() => 0);
  let missed = 0;
  let keepAlives = 0;
  for (const receipts of await open.stop()) {
    keepAlives += receipts.keepAlives;
    for (const stream of receipts.streams) {
      const firstOfChange = new Map<number, number>();
      for (const time of stream.times) {
        let change = -1;
        while (change + 1 < sent.length && sent[change + 1]! <= time) change++;
        if (change >= 0 && !firstOfChange.has(change)) firstOfChange.set(change, time);
      }
      missed += changes - firstOfChange.size;
      for (const [change, time] of firstOfChange) {
        lastOfChange[change] = Math.max(lastOfChange[change]!, time - answered[change]!);
        fromAnswer.push(Math.max(0, time - answered[change]!));
        fromRequest.push(time - sent[change]!);
      }
    }
  }
  await evaluation.child.stop();
  const baseline = await baselineGrowth({ streams, clients, perSecond });

  const stats = (values: number[]) => ({
    p50: percentileOf(values, 0.5),
    p99: percentileOf(values, 0.99),
    max: values.reduce((m, v) => Math.max(m, v), -Infinity),
  });
  const growth = Math.max(withStreams, afterChanges) - before;
  const result: StreamsResult = {
    streams,
    clientProcesses: clients,
    rampSeconds: open.rampSeconds,
    rssMb: { before: mb(before), withStreams: mb(withStreams), afterChanges: mb(afterChanges), peak: mb(peak), growth: mb(growth) },
    heapGrowthMb: { heapUsed: mb(heapAfter.heapUsed - heapBefore.heapUsed), external: mb(heapAfter.external - heapBefore.external) },
    baselineGrowthMb: mb(baseline),
    changes,
    fromAnswer: stats(fromAnswer),
    fromRequest: stats(fromRequest),
    lastStreamPerChange: lastOfChange,
    serverFanOut,
    missed,
    cpu,
    met: { memory: mb(growth) <= 100, latency: percentileOf(fromAnswer, 0.99) <= 1_000 && missed === 0 },
  };
  console.log(
    `  evaluation RSS: ${fmt(result.rssMb.before)} MB before, ${fmt(result.rssMb.withStreams)} MB with the streams open, ${fmt(result.rssMb.afterChanges)} MB after the changes (peak ${fmt(result.rssMb.peak)} MB): +${fmt(result.rssMb.growth)} MB (target ≤ 100 MB: ${target(result.met.memory)})`,
  );
  console.log(
    `    ${fmt(growth / streams / 1024, 1)} KiB a stream; V8 heap in use +${fmt(result.heapGrowthMb.heapUsed)} MB, external +${fmt(result.heapGrowthMb.external)} MB; a bare node:http server holding the same streams: +${fmt(result.baselineGrowthMb)} MB (${fmt(baseline / streams / 1024, 1)} KiB a stream)`,
  );
  console.log(`  ${changes} changes (PATCH /flags/{key}/environments/{env}), each until all ${fmt(streams)} streams received its event:`);
  console.log(
    `    from its 200 answer:   p50 ${fmt(result.fromAnswer.p50, 1)} ms   p99 ${fmt(result.fromAnswer.p99, 1)} ms   max ${fmt(result.fromAnswer.max, 1)} ms   over ${fmt(fromAnswer.length)} receipts, ${missed} missed   (target p99 ≤ 1 s: ${target(result.met.latency)})`,
  );
  console.log(
    `    from the request:      p50 ${fmt(result.fromRequest.p50, 1)} ms   p99 ${fmt(result.fromRequest.p99, 1)} ms   max ${fmt(result.fromRequest.max, 1)} ms`,
  );
  console.log(
    `    the last stream, change by change: ${lastOfChange.map((ms) => fmt(ms)).join(', ')} ms; the service's own fan-out histogram (commit → written to the last stream): median ≤ ${serverFanOut.p50} s, all ≤ ${serverFanOut.max} s`,
  );
  console.log(
    `  cpu (% of one core): ramp — evaluation ${fmt(cpu.evaluationRamp)}%, clients ${fmt(cpu.clientsRamp)}%; changes — evaluation ${fmt(cpu.evaluationChanges)}% (${fmt(cpu.evaluationMsPerChange)} ms a change), clients ${fmt(cpu.clientsChanges)}% (${fmt(cpu.clientsMsPerChange)} ms a change; busiest ${fmt(cpu.busiestClientChanges)}%); ${fmt(keepAlives)} keep-alive comments received`,
  );
  return result;
}
