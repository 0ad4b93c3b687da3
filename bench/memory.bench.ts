/**
 * Memory: the RSS of an evaluation process, started as the image starts it (the bundle, `node
 * dist/server/main.js evaluation`, Node's default heap settings), idle and then holding N flags (BENCH_MEMORY_FLAGS,
 * a list: default 10,000 and 100,000), each with a rule like the HTTP benchmarks' flags (conditions, a 50/50
 * rollout, every fifth one a segment).
 *
 * The flags are made fast: four of them (one of each rule shape) through the flags and targeting APIs, then copied
 * in PostgreSQL row by row from those — every column as the services wrote it, only the key, name and salt (and the
 * rule's id) new — and the configuration cache reseeded by the services' own relays (the bench deletes the
 * cache's "seeded" marks, as a Redis that lost its data would; each owner's relay writes everything again). Through
 * the APIs alone, 100,000 flags took ~40 minutes (three writes a flag at ~126 writes/s).
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { fmt } from './lib/load.ts';
import { metricOf, metricsText } from './lib/metrics.ts';
import { rssBytes, sleep } from './lib/processes.ts';
import { loadLine, target, type Figure } from './lib/report.ts';
import { buildBundle, expectStatus, redisUrl, type Togglemaster } from './lib/togglemaster.ts';
import { ourFlag, ourRule, ourSegment } from './lib/workload.ts';

/** Idle, and holding 10,000 flags (the targets), with Node's default heap settings. */
export const memoryTargetsMb = { idle: 80, tenThousandFlags: 150 };

export interface MemoryRun {
  flags: number;
  idleMb: number;
  /** Of the idle RSS, anonymous memory (heap, malloc); the rest is the binary's and libraries' pages. */
  idleAnonymousMb: number;
  /** Configuration and access changes the instance applied between its start and the idle reading. */
  changesWhileIdle: number;
  loadedMb: number;
  afterLoadMb: number;
  peakMb: number;
  heap: { used: number; total: number; external: number };
  /** Seconds the first request took to load and compile the environment. */
  loadSeconds: number;
  load: string;
}

export interface MemoryResult {
  runs: MemoryRun[];
  figures: Figure[];
}

function anonymousBytes(pid: number): number {
  const match = /^Anonymous:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
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

const key = (i: number) => `mem-flag-${i}`;
/** The rule shape of flag i (an index of bench/lib/workload.ts's ourRule): a fifth with the segment, half with semver. */
const shapeOf = (i: number) => (i % 5 === 0 ? i % 10 : 10 + (i % 2));
/** The SQL that picks the flags of a shape out of generate_series (`i`). */
const shapeSql: Record<number, string> = {
  0: 'i % 10 = 0',
  5: 'i % 10 = 5',
  10: 'i % 5 <> 0 and i % 2 = 0',
  11: 'i % 5 <> 0 and i % 2 = 1',
};
const templates = [0, 1, 2, 5].map((i) => ({ index: i, shape: shapeOf(i) }));

async function columnsOf(client: pg.Client, schema: string, table: string): Promise<{ name: string; type: string }[]> {
  const { rows } = await client.query<{ column_name: string; data_type: string }>(
    'select column_name, data_type from information_schema.columns where table_schema = $1 and table_name = $2 order by ordinal_position',
    [schema, table],
  );
  return rows.map((r) => ({ name: r.column_name, type: r.data_type }));
}

/** Copies each template's flag row and rule rows to the flags of its shape in [from, to), in one statement per table and shape. */
async function copyFlags(tm: Togglemaster, from: number, to: number): Promise<void> {
  const client = new pg.Client({ connectionString: tm.env.DATABASE_URL });
  await client.connect();
  try {
    const flagColumns = await columnsOf(client, 'flags', 'flags');
    const ruleColumns = await columnsOf(client, 'targeting', 'rules');
    const flagValue = (c: { name: string }) =>
      c.name === 'key' || c.name === 'name'
        ? `'mem-flag-' || i`
        : c.name === 'salt'
          ? `md5('mem-flag-' || i)`
          : c.name === 'created_at' || c.name === 'updated_at'
            ? 'now()'
            : `t.${c.name}`;
    const ruleValue = (c: { name: string; type: string }) =>
      c.name === 'id'
        ? c.type === 'uuid'
          ? 'gen_random_uuid()'
          : 'gen_random_uuid()::text'
        : c.name === 'flag_key'
          ? `'mem-flag-' || i`
          : `t.${c.name}`;
    const list = (columns: { name: string }[]) => columns.map((c) => c.name).join(', ');
    for (const { index, shape } of templates) {
      const series = `generate_series(${from}, ${to - 1}) as i`;
      const pick = `${shapeSql[shape]} and i not in (${templates.map((t) => t.index).join(', ')})`;
      await client.query('begin');
      await client.query(
        `insert into flags.flags (${list(flagColumns)}) select ${flagColumns.map(flagValue).join(', ')} from flags.flags t, ${series} where t.key = $1 and ${pick}`,
        [key(index)],
      );
      await client.query(
        `insert into targeting.rules (${list(ruleColumns)}) select ${ruleColumns.map(ruleValue).join(', ')} from targeting.rules t, ${series} where t.flag_key = $1 and ${pick}`,
        [key(index)],
      );
      await client.query('commit');
    }
  } finally {
    await client.end();
  }
}

/** Makes the owners' relays write the whole configuration to the cache again; answers how many flags it then holds. */
async function reseed(tm: Togglemaster, flags: number): Promise<number> {
  const prefix = tm.env.REDIS_KEY_PREFIX ?? '';
  const redis = new Redis(redisUrl, { keyPrefix: prefix, maxRetriesPerRequest: 1 });
  try {
    await redis.del('cfg:seeded:flags', 'cfg:seeded:targeting');
    const deadline = performance.now() + 30 * 60_000;
    for (;;) {
      const [count, flagsSeeded, targetingSeeded] = await Promise.all([
        redis.scard('cfg:flags'),
        redis.exists('cfg:seeded:flags'),
        redis.exists('cfg:seeded:targeting'),
      ]);
      // Each relay marks the cache seeded only once it has written every entry of its own (the copied rows were
      // committed before the marks were deleted): both marks back means the cache holds them all.
      if (flagsSeeded === 1 && targetingSeeded === 1) return count;
      if (performance.now() > deadline) throw new Error(`the cache holds ${count} of ${flags} flags after 30 minutes of reseeding`);
      await sleep(500);
    }
  } finally {
    redis.disconnect();
  }
}

/**
 * Waits until every service's outbox is published: an instance started while another part's changes are still being
 * relayed applies them while it should be idle (in a full run, the targeting part's 10,001 segment deletions were
 * still arriving: 2,500 changes, +10 MB). Answers the seconds waited.
 */
async function untilChangesRelayed(tm: Togglemaster): Promise<number> {
  const client = new pg.Client({ connectionString: tm.env.DATABASE_URL });
  await client.connect();
  const started = performance.now();
  try {
    const { rows: schemas } = await client.query<{ table_schema: string }>(
      "select table_schema from information_schema.tables where table_name = 'outbox'",
    );
    const waiting = schemas
      .map(({ table_schema }) => `(select count(*) from "${table_schema}".outbox where published_at is null and set_aside_at is null)`)
      .join(' + ');
    if (!waiting) return 0;
    for (;;) {
      const { rows } = await client.query<{ waiting: string }>(`select ${waiting} as waiting`);
      if (Number(rows[0]?.waiting) === 0) return (performance.now() - started) / 1000;
      if (performance.now() - started > 10 * 60_000) throw new Error(`${rows[0]?.waiting} changes still not relayed after 10 minutes`);
      await sleep(250);
    }
  } finally {
    await client.end();
  }
}

/** A new evaluation instance from the bundle: idle, with the environment loaded, after 2,000 evaluations. */
async function measure(tm: Togglemaster, flags: number, ours: number): Promise<MemoryRun> {
  const lastKey = key(ours - 1);
  const relayedIn = await untilChangesRelayed(tm);
  if (relayedIn > 1) console.log(`  waited ${fmt(relayedIn, 1)} s for the services' outboxes to be relayed before starting the instance`);
  const evaluation = await tm.startRole('evaluation', { name: `memory-evaluation-${flags}`, from: 'bundle' });
  // The start-up's memory-reducing collection runs a second after the start (shared/runtime/release-startup-memory.ts).
  await sleep(2_500);
  const idle = rssBytes(evaluation.child.pid);
  const idleAnonymous = anonymousBytes(evaluation.child.pid);
  // None expected (the outboxes were relayed before it started): a figure above 0 says the reading is not idle.
  const changesWhileIdle = metricOf(await metricsText(evaluation.url), 'config_replica_changes_applied_total');
  const loadStarted = performance.now();
  // The first request loads the whole environment (from Redis) and compiles every flag.
  for (let attempt = 0; ; attempt++) {
    if ((await ofrepOne(evaluation.url, tm.sdkKey, lastKey)) === 200) break;
    if (attempt > 600) throw new Error(`the new evaluation instance does not serve ${lastKey}`);
    await sleep(100);
  }
  const loadSeconds = (performance.now() - loadStarted) / 1000;
  await sleep(2_000);
  const loaded = rssBytes(evaluation.child.pid);
  for (let i = 0; i < 2_000; i++) await ofrepOne(evaluation.url, tm.sdkKey, key((i * 7919) % ours));
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
  return {
    flags,
    idleMb: mb(idle),
    idleAnonymousMb: mb(idleAnonymous),
    changesWhileIdle,
    loadedMb: mb(loaded),
    afterLoadMb: mb(afterLoad),
    peakMb: mb(peak),
    heap,
    loadSeconds,
    load: loadLine(),
  };
}

export async function runMemory(
  tm: Togglemaster,
  existing: number,
  counts = (process.env.BENCH_MEMORY_FLAGS ?? '10000,100000').split(',').map(Number),
): Promise<MemoryResult> {
  if (counts.some((n) => !Number.isInteger(n) || n <= existing))
    throw new Error(`BENCH_MEMORY_FLAGS: flag counts above the ${existing} flags already there, comma-separated`);
  if (!(await buildBundle())) throw new Error('the memory benchmark runs the bundle: this checkout has no scripts/build-roles.ts');
  // The segment of the HTTP workload (already there when the HTTP part ran first), and the four template flags.
  expectStatus('segment', await tm.api('POST', `${tm.targeting.url}/targeting/segments`, ourSegment), 201, 409);
  for (const { index, shape } of templates) {
    const { environments, ...definition } = ourFlag(key(index));
    expectStatus(`flag ${key(index)}`, await tm.api('POST', `${tm.flags.url}/flags`, definition), 201);
    expectStatus(
      `state of ${key(index)}`,
      await tm.api('PATCH', `${tm.flags.url}/flags/${key(index)}/environments/production`, environments.production),
      200,
    );
    expectStatus(`rule of ${key(index)}`, await tm.api('POST', `${tm.targeting.url}/targeting/rules`, ourRule(key(index), shape)), 201);
  }

  const runs: MemoryRun[] = [];
  let made = 0;
  for (const total of [...counts].sort((a, b) => a - b)) {
    const started = performance.now();
    const wanted = total - existing;
    await copyFlags(tm, made, wanted);
    made = wanted;
    const cached = await reseed(tm, total);
    console.log(
      `  ${fmt(total)} flags in all (${fmt(wanted)} mem-flag-*: copied in PostgreSQL from four made through the APIs, the cache reseeded by the services' relays: it holds ${fmt(cached)}) in ${fmt((performance.now() - started) / 1000, 1)} s`,
    );
    const run = await measure(tm, total, wanted);
    runs.push(run);
    console.log(
      `  evaluation RSS (bundle): ${fmt(run.idleMb)} MB idle (${fmt(run.idleAnonymousMb)} MB of it anonymous; ${fmt(run.changesWhileIdle)} changes applied by then), ${fmt(run.loadedMb)} MB with ${fmt(total)} flags loaded (in ${fmt(run.loadSeconds, 1)} s), ${fmt(run.afterLoadMb)} MB after 2,000 evaluations, peak ${fmt(run.peakMb)} MB (${run.load})`,
    );
    console.log(
      `  V8 heap then: ${fmt(run.heap.used)} MB used of ${fmt(run.heap.total)} MB; external ${fmt(run.heap.external)} MB; the rest of the RSS is code, the runtime and freed pages not yet returned`,
    );
  }

  const figures: Figure[] = [];
  const first = runs[0];
  if (first) {
    const met = first.idleMb <= memoryTargetsMb.idle;
    figures.push({ name: 'evaluation RSS idle (bundle)', value: `${fmt(first.idleMb)} MB`, target: `≤ ${memoryTargetsMb.idle} MB`, met });
    console.log(`  idle: ${fmt(first.idleMb)} MB (target ≤ ${memoryTargetsMb.idle} MB: ${target(met)})`);
  }
  for (const run of runs) {
    const targeted = run.flags === 10_000;
    const with10k = { target: `≤ ${memoryTargetsMb.tenThousandFlags} MB`, met: run.loadedMb <= memoryTargetsMb.tenThousandFlags };
    figures.push({
      name: `evaluation RSS with ${fmt(run.flags)} flags loaded`,
      value: `${fmt(run.loadedMb)} MB`,
      ...(targeted ? with10k : {}),
    });
    figures.push({
      name: `evaluation RSS with ${fmt(run.flags)} flags after 2,000 evaluations`,
      value: `${fmt(run.afterLoadMb)} MB`,
      ...(targeted ? { target: with10k.target, met: run.afterLoadMb <= memoryTargetsMb.tenThousandFlags } : {}),
    });
    if (targeted)
      console.log(
        `  with 10,000 flags: ${fmt(run.loadedMb)} MB loaded, ${fmt(run.afterLoadMb)} MB after evaluations (target ≤ ${memoryTargetsMb.tenThousandFlags} MB: ${target(Math.max(run.loadedMb, run.afterLoadMb) <= memoryTargetsMb.tenThousandFlags)})`,
      );
  }
  return { runs, figures };
}
