/**
 * Cold start: each role started in a new process, timed from the spawn to /readyz answering 200 (polled every 5 ms),
 * five starts per role (BENCH_COLD_STARTS), median and worst. Measured the way the image runs a role — the bundle,
 * `node dist/server/main.js <role>`, built first as the image build does — and, beside it for
 * comparison, the way development runs it (`node handlers/main.ts <role>`, the TypeScript sources). The two are
 * started in turn (bundle, sources, bundle, …) so that both see the same machine. For the evaluation service also the
 * time to its first evaluation (it loads the configuration on the first request). First, the floor: a bare
 * node:http server started and polled the same way, to read every figure against what Node alone takes at this load.
 */
import os from 'node:os';
import { fmt } from './lib/load.ts';
import { baseEnvironment, cpuSeconds, freePort, startNode, waitForHttp } from './lib/processes.ts';
import { loadLine, percentileOf, target, type Figure } from './lib/report.ts';
import { buildBundle, type ServiceRole, type Togglemaster } from './lib/togglemaster.ts';
import { fixedContext } from './lib/workload.ts';

/** The one-minute load average, short, beside each figure: on a shared 2-core machine it moves every figure. */
const loadNow = () => `load ${(os.loadavg()[0] ?? NaN).toFixed(1)}`;

/** spawn → /readyz 200, median of the starts, for every role started as the image starts it. */
export const coldStartTargetMs = 400;

export interface ColdStartTimes {
  median: number;
  worst: number;
  /** Spawn → the first evaluation answered (evaluation only), median. */
  firstEvaluation?: number;
  /**
   * CPU the process had used (user + system, all its threads) when /readyz first answered 200, median: what the start
   * costs whatever else the machine is doing, where the wall-clock figures move with the load.
   */
  cpuMs: number;
}

export interface ColdStartResult {
  role: ServiceRole;
  /** As the image runs it; absent when the product under test has no bundle build. */
  bundle?: ColdStartTimes;
  sources: ColdStartTimes;
  met: boolean;
}

export interface ColdStartReport {
  roles: ColdStartResult[];
  /** The same measurement of a bare node:http server answering 200: what Node itself takes at this load. */
  floor: ColdStartTimes;
  figures: Figure[];
}

/**
 * Spawn → 200 of the smallest Node server there is (`node:http`, one inline script, nothing else loaded), polled
 * the same way: the floor under every role's figure on this machine at this load, measured in turn with them.
 */
async function timeBareServer(): Promise<{ readyMs: number; cpuMs: number }> {
  const port = await freePort();
  const spawned = performance.now();
  const child = startNode(
    `coldstart-bare-node-${port}`,
    '-e',
    [`require('node:http').createServer((_, res) => res.end('ok')).listen(${port}, '127.0.0.1')`],
    { env: baseEnvironment() },
  );
  await waitForHttp(`http://127.0.0.1:${port}/`, { child, timeoutMs: 60_000, intervalMs: 5 });
  const readyMs = performance.now() - spawned;
  const cpuMs = cpuSeconds(child.pid) * 1000;
  await child.stop();
  return { readyMs, cpuMs };
}

async function timeStart(tm: Togglemaster, role: ServiceRole, from: 'bundle' | 'sources', name: string) {
  const spawned = performance.now();
  const started = await tm.startRole(role, { name, from });
  const cpuMs = cpuSeconds(started.child.pid) * 1000;
  let firstEvaluation: number | undefined;
  if (role === 'evaluation') {
    const response = await fetch(`${started.url}/ofrep/v1/evaluate/flags`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': tm.sdkKey },
      body: JSON.stringify({ context: fixedContext }),
    });
    await response.arrayBuffer();
    if (response.status === 200) firstEvaluation = performance.now() - spawned;
  }
  await started.child.stop();
  return { readyMs: started.readyMs, cpuMs, firstEvaluation };
}

function summary(times: { readyMs: number; cpuMs: number; firstEvaluation?: number | undefined }[]): ColdStartTimes {
  const ready = times.map((t) => t.readyMs);
  const first = times.flatMap((t) => (t.firstEvaluation === undefined ? [] : [t.firstEvaluation]));
  return {
    median: percentileOf(ready, 0.5),
    worst: Math.max(...ready),
    cpuMs: percentileOf(
      times.map((t) => t.cpuMs),
      0.5,
    ),
    ...(first.length > 0 ? { firstEvaluation: percentileOf(first, 0.5) } : {}),
  };
}

function line(times: ColdStartTimes, starts: number): string {
  const first = times.firstEvaluation === undefined ? '' : `; first evaluation after ${fmt(times.firstEvaluation)} ms`;
  return `median ${fmt(times.median).padStart(5)} ms, worst ${fmt(times.worst).padStart(5)} ms of ${starts}, CPU ${fmt(times.cpuMs).padStart(4)} ms${first}`;
}

export async function runColdStart(
  tm: Togglemaster,
  roles: ServiceRole[],
  starts = Number(process.env.BENCH_COLD_STARTS ?? 5),
): Promise<ColdStartReport> {
  const buildStarted = performance.now();
  const bundled = await buildBundle();
  console.log(
    bundled
      ? `  bundle built (node scripts/build-roles.ts, as npm install and the image build run it) in ${fmt((performance.now() - buildStarted) / 1000, 1)} s`
      : '  this checkout has no scripts/build-roles.ts: the sources only',
  );
  const results: ColdStartResult[] = [];
  const figures: Figure[] = [];
  const bare: { readyMs: number; cpuMs: number }[] = [];
  for (let i = 0; i < starts; i++) bare.push(await timeBareServer());
  const floor = summary(bare);
  console.log(`  ${'bare node:http'.padEnd(16)} floor   ${line(floor, starts)} (Node alone at this load: ${loadLine()})`);
  figures.push({
    name: `cold start floor: a bare node:http server (median of ${starts})`,
    value: `${fmt(floor.median)} ms, CPU ${fmt(floor.cpuMs)} ms (${loadNow()})`,
  });
  for (const role of roles) {
    const fromBundle: Awaited<ReturnType<typeof timeStart>>[] = [];
    const fromSources: Awaited<ReturnType<typeof timeStart>>[] = [];
    for (let i = 0; i < starts; i++) {
      if (bundled) fromBundle.push(await timeStart(tm, role, 'bundle', `coldstart-${role}-bundle-${i + 1}`));
      fromSources.push(await timeStart(tm, role, 'sources', `coldstart-${role}-sources-${i + 1}`));
    }
    const sources = summary(fromSources);
    const bundle = bundled ? summary(fromBundle) : undefined;
    const measured = bundle ?? sources;
    const result: ColdStartResult = { role, ...(bundle ? { bundle } : {}), sources, met: measured.median <= coldStartTargetMs };
    results.push(result);
    if (bundle)
      console.log(
        `  ${role.padEnd(16)} bundle  ${line(bundle, starts)} (target median ≤ ${coldStartTargetMs} ms: ${target(result.met)}; ${loadLine()})`,
      );
    console.log(`  ${''.padEnd(16)} sources ${line(sources, starts)}${bundle ? ' (development; for comparison)' : ''}`);
    figures.push({
      name: `cold start ${role} (spawn → /readyz 200, median of ${starts}, ${bundle ? 'bundle' : 'sources'})`,
      value: `${fmt(measured.median)} ms, CPU ${fmt(measured.cpuMs)} ms (${loadNow()})`,
      target: `≤ ${coldStartTargetMs} ms`,
      met: result.met,
    });
    figures.push({ name: `cold start ${role} from the sources (median of ${starts})`, value: `${fmt(sources.median)} ms` });
  }
  return { roles: results, floor, figures };
}
