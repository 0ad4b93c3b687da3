/**
 * Hot partitions at internet scale (issue 19, item 6): replays the counter items of an hour at 1,000,000
 * evaluations/s against DynamoDB's per-partition limits (1,000 write units/s, 3,000 read units/s per partition key's
 * partition), with the real key design and item builder of the analytics worker (handlers/analytics/counter-keys.ts,
 * count-log.dynamo.ts: `logItemsOf`, `totalItemsOf`).
 *
 *   npm run bench -- partitions        (or: node bench/partitions.bench.ts)
 *
 * Workload: 250 evaluation pods at 4,000 evaluations/s (1M/s), each flushing its 16,000 evaluations every 4 s on the
 * same ticks (the publisher aligns them: every pod's messages arrive together; the publisher's own encoder decides how
 * many messages a tick is — with random users, several of ~240 KB), 10,000 flags in one environment — one flag takes 50% of
 * the traffic, the others share the rest by a Zipf law (s = 1) — two variants each, random users. Sample messages are
 * built as the evaluation service's batches and turned into log items by the worker's own code; the hour replays
 * them tick by tick. Per partition key and second: log writes (a tick's messages all written within one second: the
 * peak; and the hour's average), each part's total written once a minute (its counts; the ids of the minute's
 * batches in an item of their own), watermark moves, and reads — dashboards (10, each refreshing the popular flag's last hour every 10 s: a
 * read per second), each reading the watermarks (strongly consistent), the flag's parts' totals of the hour
 * (strongly consistent) and the log after the watermark (eventually consistent: up to 2 minutes of it, the fold's
 * delay), plus compaction's strongly consistent reads of the log it folds.
 */
import { randomBytes } from 'node:crypto';
import { decodeBatch, encodeWithinLimit, type EvaluationRecord } from '../shared/events/evaluation-event.ts';
import type { EvaluationResult } from '../shared/contracts/evaluation-model.ts';
import type { CountRow } from '../handlers/analytics/analytics-store.ts';
import { itemBytes, logItemsOf, totalItemsOf } from '../handlers/analytics/count-log.dynamo.ts';
import {
  idsPartition,
  logPartition,
  logShardOf,
  partsOfFlag,
  totalPartition,
  watermarkPartition,
} from '../handlers/analytics/counter-keys.ts';
import { loadLine, machineLine, printFigures, type Figure } from './lib/report.ts';

const limits = { writeUnitsPerSecond: 1_000, readUnitsPerSecond: 3_000 };

export interface PartitionsOptions {
  evaluationsPerSecond: number;
  pods: number;
  flags: number;
  /** Share of all evaluations that go to the most popular flag. */
  hotShare: number;
  flushMs: number;
  dashboards: number;
  dashboardRefreshMs: number;
  /** Distinct sample messages built (the hour reuses them in turn). */
  samples: number;
}

export interface PartitionLoad {
  pk: string;
  writeUnitsPeak: number;
  writeUnitsAverage: number;
  readUnits: number;
}

export interface PartitionsResult {
  options: PartitionsOptions;
  busiestWrite: PartitionLoad;
  busiestRead: PartitionLoad;
  /** Whole table, per second on average: what the hour costs. */
  table: { writeUnitsPerSecond: number; readUnitsPerSecond: number; dollarsPerMonth: number };
  /** Messages a pod's tick makes (the encoder's ~240 KB limit: with random users, several). */
  messagesPerPodTick: number;
  logItemsPerMessage: number;
  writeUnitsPerMessage: number;
  figures: Figure[];
}

const defaults: PartitionsOptions = {
  evaluationsPerSecond: 1_000_000,
  pods: 250,
  flags: 10_000,
  hotShare: 0.5,
  flushMs: 4_000,
  dashboards: 10,
  dashboardRefreshMs: 10_000,
  samples: 24,
};

/** Flag picker: flag 0 takes `hotShare`; flags 1… share the rest by Zipf (s = 1). */
function flagPicker(flags: number, hotShare: number): () => number {
  const weights = Array.from({ length: flags - 1 }, (_, i) => 1 / (i + 1));
  const sum = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) cumulative.push((acc += w / sum));
  return () => {
    if (Math.random() < hotShare) return 0;
    const r = Math.random();
    let [low, high] = [0, cumulative.length - 1];
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cumulative[mid]! < r) low = mid + 1;
      else high = mid;
    }
    return low + 1;
  };
}

const flagKey = (i: number) => `flag-${String(i).padStart(5, '0')}`;
const wcu = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
/** Read units of `bytes` read in one query: 4 KB each, half when eventually consistent. */
const rcu = (bytes: number, consistent: boolean) => Math.max(consistent ? 1 : 0.5, Math.ceil(bytes / 4096) / (consistent ? 1 : 2));

export async function runPartitions(overrides: Partial<PartitionsOptions> = {}): Promise<PartitionsResult> {
  const options = { ...defaults, ...overrides };
  console.log(machineLine());
  console.log(loadLine());
  const environment = 'production';
  const start = Date.UTC(2026, 10, 24, 12, 0, 0);
  const perMessage = (options.evaluationsPerSecond / options.pods) * (options.flushMs / 1000);
  const pick = flagPicker(options.flags, options.hotShare);
  const hot = flagKey(0);

  // A pod's tick as the evaluation service sends it: its evaluations as request records, encoded into messages by
  // the publisher's own encoder (a message is at most ~240 KB: with random users a tick is several), each message
  // made into log items by the worker's own code.
  const answers = new Map<string, EvaluationResult>();
  const answerOf = (flag: number, variant: string): EvaluationResult => {
    const id = `${flag}:${variant}`;
    let answer = answers.get(id);
    if (!answer) answers.set(id, (answer = { flagKey: flagKey(flag), value: variant === 'on', variant, reason: 'SPLIT' }));
    return answer;
  };
  const samples: { shard: number; items: { part: string; bytes: number }[] }[][] = [];
  for (let i = 0; i < options.samples; i++) {
    const at = start + 4_000;
    const records: EvaluationRecord[] = Array.from({ length: perMessage }, (_, j) => ({
      environment,
      targetingKey: randomBytes(12).toString('base64url'),
      at: at - (j % 4_000),
      results: [answerOf(pick(), Math.random() < 0.5 ? 'on' : 'off')],
    }));
    const bodies = await encodeWithinLimit({ batchId: randomBytes(16).toString('hex'), records, counts: [], events: perMessage }, 'salt');
    const messages: { shard: number; items: { part: string; bytes: number }[] }[] = [];
    for (const body of bodies) {
      const batch = await decodeBatch(body);
      const items = logItemsOf(batch, 30 * 86_400_000, at + i).map(({ part, item }) => ({ part, bytes: itemBytes(item) }));
      messages.push({ shard: logShardOf(batch.batchId), items });
    }
    samples.push(messages);
  }
  const messagesPerPodTick = samples.reduce((n, s) => n + s.length, 0) / samples.length;
  const allMessages = samples.flat();
  const logItemsPerMessage = allMessages.reduce((n, s) => n + s.items.length, 0) / allMessages.length;
  const writeUnitsPerMessage = allMessages.reduce((n, s) => n + s.items.reduce((m, i) => m + wcu(i.bytes), 0), 0) / allMessages.length;

  // Log writes per part: one tick is every pod's messages, all written within a second at worst.
  // Per part, and per partition key of its log (a message's items go to its batch's shard of each part's log).
  const perTick = new Map<string, { units: number; bytes: number; items: number }>();
  const perLogKey = new Map<string, { part: string; units: number; bytes: number }>();
  for (let m = 0; m < options.pods; m++)
    for (const { shard, items } of samples[m % samples.length]!)
      for (const { part, bytes } of items) {
        const load = perTick.get(part) ?? { units: 0, bytes: 0, items: 0 };
        load.units += wcu(bytes);
        load.bytes += bytes;
        load.items += 1;
        perTick.set(part, load);
        const pk = logPartition(environment, part, start, shard);
        const key = perLogKey.get(pk) ?? { part, units: 0, bytes: 0 };
        key.units += wcu(bytes);
        key.bytes += bytes;
        perLogKey.set(pk, key);
      }
  const ticksPerSecond = 1000 / options.flushMs;
  const ticksPerMinute = 60_000 / options.flushMs;

  // A part's total of a minute: the counts of its flags over the minute and the ids of the minute's batches.
  const batchesPerMinute = options.pods * messagesPerPodTick * ticksPerMinute;
  const totalBytes = new Map<string, { total: number; ids: number }>();
  for (const part of perTick.keys()) {
    // Every flag of the part counted in the minute (at 3,750 messages a minute, even the rare ones are).
    const rows = new Map<string, CountRow>();
    for (let f = 0; f < options.flags; f++) {
      const key = flagKey(f);
      if (!partsOfFlag(key).includes(part)) continue;
      for (const variant of ['on', 'off'])
        rows.set(`${key}${variant}`, { flagKey: key, environment, variant, reason: 'SPLIT', ruleId: null, minute: start, count: 123_456 });
    }
    const ids = Array.from({ length: batchesPerMinute }, () => randomBytes(16).toString('hex'));
    const items = totalItemsOf(environment, part, start, [...rows.values()], ids, 42, randomBytes(16).toString('hex'));
    totalBytes.set(part, { total: itemBytes(items.total), ids: items.ids.reduce((bytes, item) => bytes + itemBytes(item), 0) });
  }

  const loads = new Map<string, PartitionLoad>();
  const loadOf = (pk: string) => {
    let load = loads.get(pk);
    if (!load) loads.set(pk, (load = { pk, writeUnitsPeak: 0, writeUnitsAverage: 0, readUnits: 0 }));
    return load;
  };
  for (const [pk, tick] of perLogKey) {
    const log = loadOf(pk);
    log.writeUnitsPeak += tick.units;
    log.writeUnitsAverage += tick.units * ticksPerSecond;
  }
  for (const part of perTick.keys()) {
    // Each part's total written once a minute, its batch ids (apart, when many) with it.
    const { total, ids } = totalBytes.get(part)!;
    const totals = loadOf(totalPartition(environment, part, start));
    totals.writeUnitsPeak += wcu(total);
    totals.writeUnitsAverage += wcu(total) / 60;
    if (ids > 0) {
      const apart = loadOf(idsPartition(environment, part, start));
      apart.writeUnitsPeak += wcu(ids);
      apart.writeUnitsAverage += wcu(ids) / 60;
    }
  }
  // Watermarks: every part's moves once a pass (a minute); the fold reads them all, strongly.
  const marks = loadOf(watermarkPartition);
  marks.writeUnitsPeak += perTick.size;
  marks.writeUnitsAverage += perTick.size / 60;
  const marksBytes = perTick.size * 64;

  // Reads per second by the dashboards of the popular flag (each reads the last hour) and by compaction.
  const readsPerSecond = (options.dashboards * 1000) / options.dashboardRefreshMs;
  const foldDelayMs = 122_000;
  for (const part of partsOfFlag(hot)) {
    const tick = perTick.get(part);
    if (!tick) continue;
    const { total, ids } = totalBytes.get(part)!;
    const totals = loadOf(totalPartition(environment, part, start));
    totals.readUnits += readsPerSecond * rcu(60 * total, true) + rcu(total, true) / 60;
    if (ids > 0) {
      // A read needs the ids of the minutes its log window has (up to 3); a fold those of the minute it writes.
      const apart = loadOf(idsPartition(environment, part, start));
      apart.readUnits += readsPerSecond * 3 * rcu(ids, true) + rcu(ids, true) / 60;
    }
    // A read and a fold query every shard of the part's log.
    for (const [pk, shardTick] of perLogKey) {
      if (shardTick.part !== part) continue;
      const window = (foldDelayMs / options.flushMs) * shardTick.bytes;
      loadOf(pk).readUnits += readsPerSecond * rcu(window, false) + rcu(ticksPerMinute * shardTick.bytes, true) / 60;
    }
  }
  marks.readUnits += readsPerSecond * rcu(marksBytes, true) + rcu(marksBytes, true) / 60;

  const all = [...loads.values()];
  const busiestWrite = all.reduce((a, b) => (b.writeUnitsPeak > a.writeUnitsPeak ? b : a));
  const busiestRead = all.reduce((a, b) => (b.readUnits > a.readUnits ? b : a));
  const tableWrites = all.reduce((n, l) => n + l.writeUnitsAverage, 0);
  const tableReads = all.reduce((n, l) => n + l.readUnits, 0);
  const secondsPerMonth = 30 * 86_400;
  const dollarsPerMonth = ((tableWrites * 0.625 + tableReads * 0.125) * secondsPerMonth) / 1_000_000;

  const round = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(
    `${options.evaluationsPerSecond.toLocaleString('en-US')} evaluations/s: ${options.pods} pods × ${perMessage.toLocaleString('en-US')} evaluations every ${options.flushMs / 1000} s, sent as ${messagesPerPodTick.toFixed(1)} messages; ` +
      `${logItemsPerMessage.toFixed(1)} log items (${writeUnitsPerMessage.toFixed(1)} write units) per message over ${perTick.size} parts — ${loadLine()}`,
  );
  const figures: Figure[] = [
    {
      name: 'partitions 1M/s: busiest partition key, write units/s (a tick written in 1 s)',
      value: `${round(busiestWrite.writeUnitsPeak)} (${busiestWrite.pk})`,
      target: `≤ ${limits.writeUnitsPerSecond.toLocaleString('en-US')}`,
      met: busiestWrite.writeUnitsPeak <= limits.writeUnitsPerSecond,
    },
    {
      name: 'partitions 1M/s: busiest partition key, read units/s (10 dashboards / 10 s on the popular flag)',
      value: `${round(busiestRead.readUnits)} (${busiestRead.pk})`,
      target: `≤ ${limits.readUnitsPerSecond.toLocaleString('en-US')}`,
      met: busiestRead.readUnits <= limits.readUnitsPerSecond,
    },
    { name: 'partitions 1M/s: table write units/s (average)', value: round(tableWrites) },
    { name: 'partitions 1M/s: table read units/s (average)', value: round(tableReads) },
    { name: 'partitions 1M/s: DynamoDB $ per month (on-demand, list)', value: `$${round(dollarsPerMonth)}` },
  ];
  printFigures(figures);
  return {
    options,
    busiestWrite,
    busiestRead,
    table: { writeUnitsPerSecond: tableWrites, readUnitsPerSecond: tableReads, dollarsPerMonth },
    messagesPerPodTick,
    logItemsPerMessage,
    writeUnitsPerMessage,
    figures,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) await runPartitions();
