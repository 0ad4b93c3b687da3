/**
 * Memory: the RSS of an evaluation process that holds 10,000 flags (each with a rule like the HTTP benchmarks'
 * flags: conditions, a 50/50 rollout, every fifth one a segment), created through the flags and targeting APIs.
 */
import { fmt } from './lib/load.ts';
import { rssBytes, sleep } from './lib/processes.ts';
import { target } from './lib/report.ts';
import { expectStatus, inParallel, type Togglemaster } from './lib/togglemaster.ts';
import { ourFlag, ourRule, ourSegment } from './lib/workload.ts';
import { readFileSync } from 'node:fs';

export interface MemoryResult {
  flags: number;
  idleMb: number;
  loadedMb: number;
  afterLoadMb: number;
  peakMb: number;
  heap: { used: number; total: number; external: number };
  met: boolean;
}

function peakRssBytes(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

async function ofrepOne(url: string, sdkKey: string, key: string): Promise<number> {
  const response = await fetch(`${url}/ofrep/v1/evaluate/flags/${key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': sdkKey },
    body: JSON.stringify({ context: { targetingKey: 'user-1', country: 'BR', appVersion: '2.0.0', plan: 'pro' } }),
  });
  await response.arrayBuffer();
  return response.status;
}

export async function runMemory(
  tm: Togglemaster,
  existing: number,
  total = Number(process.env.BENCH_MEMORY_FLAGS ?? 10_000),
): Promise<MemoryResult> {
  const keys = Array.from({ length: total - existing }, (_, i) => `mem-flag-${i}`);
  const started = performance.now();
  // The segment of the HTTP workload (already there when the HTTP part ran first).
  expectStatus('segment', await tm.api('POST', `${tm.targeting.url}/targeting/segments`, ourSegment), 201, 409);
  await inParallel(keys, 8, async (key, i) => {
    // Created without `environments`, then switched on with PATCH: a create that carries environment states reads
    // every flag's prerequisites (flag-service.ts, create → store.prerequisiteEdges()), which makes creating
    // thousands of flags quadratic (see docs/benchmarks.md, Memory).
    const { environments, ...definition } = ourFlag(key);
    expectStatus(`flag ${key}`, await tm.api('POST', `${tm.flags.url}/flags`, definition), 201);
    expectStatus(
      `state of ${key}`,
      await tm.api('PATCH', `${tm.flags.url}/flags/${key}/environments/production`, environments.production),
      200,
    );
    // Every fifth flag uses the segment, every other one the semver condition (as in the 50-flag workload).
    expectStatus(
      `rule of ${key}`,
      await tm.api('POST', `${tm.targeting.url}/targeting/rules`, ourRule(key, i % 5 === 0 ? i % 10 : 10 + (i % 2))),
      201,
    );
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `  created ${fmt(keys.length)} flags (POST /flags, PATCH its production state, POST /targeting/rules) in ${fmt(seconds, 1)} s (${fmt((keys.length * 3) / seconds)} writes/s); ${fmt(total)} flags in all`,
  );

  const evaluation = await tm.startRole('evaluation', { name: 'memory-evaluation' });
  await sleep(1_000);
  const idle = rssBytes(evaluation.child.pid);
  const lastKey = keys[keys.length - 1] ?? 'bench-flag-0';
  // The first request loads the whole environment (from Redis) and compiles every flag.
  for (let attempt = 0; ; attempt++) {
    if ((await ofrepOne(evaluation.url, tm.sdkKey, lastKey)) === 200) break;
    if (attempt > 100) throw new Error(`the new evaluation instance does not serve ${lastKey}`);
    await sleep(100);
  }
  await sleep(2_000);
  const loaded = rssBytes(evaluation.child.pid);
  for (let i = 0; i < 2_000; i++) await ofrepOne(evaluation.url, tm.sdkKey, keys[(i * 7) % keys.length] ?? lastKey);
  await sleep(1_000);
  const afterLoad = rssBytes(evaluation.child.pid);
  const peak = peakRssBytes(evaluation.child.pid);
  const metrics = await (await fetch(`${evaluation.url}/metrics`)).text();
  const gauge = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(metrics)?.[1] ?? NaN) / 2 ** 20;
  const heap = {
    used: gauge('nodejs_heap_size_used_bytes'),
    total: gauge('nodejs_heap_size_total_bytes'),
    external: gauge('nodejs_external_memory_bytes'),
  };
  await evaluation.child.stop();
  const mb = (n: number) => n / 2 ** 20;
  const result = {
    flags: total,
    idleMb: mb(idle),
    loadedMb: mb(loaded),
    afterLoadMb: mb(afterLoad),
    peakMb: mb(peak),
    heap,
    met: mb(Math.max(loaded, afterLoad)) <= 200,
  };
  console.log(
    `  evaluation RSS: ${fmt(result.idleMb)} MB started, ${fmt(result.loadedMb)} MB with ${fmt(total)} flags loaded, ${fmt(result.afterLoadMb)} MB after 2,000 evaluations, peak ${fmt(result.peakMb)} MB (target ≤ 200 MB: ${target(result.met)})`,
  );
  console.log(
    `  V8 heap then: ${fmt(heap.used)} MB used of ${fmt(heap.total)} MB; external ${fmt(heap.external)} MB; the rest of the RSS is code, the runtime and freed pages not yet returned`,
  );
  return result;
}
