/*
 * The key design of the evaluation counters (ADR 15, docs/analytics.md): what partition and sort key each counter
 * item gets, in one place, so that the store writes them and bench/partitions.bench.ts replays them at 1M/s.
 *
 * A batch's counts of one minute are one *log item*, keyed by when the worker wrote it (its arrival):
 *   CL#<env>#<part>#<arrival day>[#s<shard>]   <arrival ts>#<batch>#<minute>   (shard: logShardOf(batch), 0 unsuffixed)
 * Compaction folds the log, in arrival order, into one *total* per part and minute (the ids of the batches it holds
 * make a batch counted once), and moves the part's *watermark*, the arrival time through which the log is folded:
 *   CT#<env>#<part>#<day>           <minute>
 *   CI#<env>#<part>#<day>           <minute>#<key>        a busy total's batch ids, apart (the total names the key)
 *   CW                              <env>#<part>          (also the list of parts that compaction folds)
 * A read sums the totals of its minutes and the log items after the watermark that no total holds yet.
 *
 * Parts: a batch whose counts of a minute fit in a write unit is one item in part `a` (a small deployment writes
 * one item per message). A larger one (many flags per message: a big deployment) is split by the flag's bucket,
 * `b00`…`b63` (FNV-1a of the flag key), so a popular flag's reads touch its bucket's items, not every flag's, and
 * a busy environment's writes spread over 65 partition keys.
 */

/** Buckets of a large batch's counts (by flag): the reads of one flag touch one of them. */
export const flagBuckets = 64;
/** Above this many bytes of encoded counts, a batch's minute is split by flag bucket. */
export const wholeItemBytes = 700;

const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);
export const minuteText = (minute: number) => new Date(minute).toISOString().slice(0, 16);
export const minuteFromText = (text: string) => Date.parse(`${text}:00.000Z`);
export const tsText = (at: number) => String(at).padStart(13, '0');

/** FNV-1a (32 bit): stable across processes and releases (it names stored keys). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The flag bucket of a flag key. */
export const bucketOf = (flagKey: string): number => fnv1a(flagKey) % flagBuckets;

/**
 * Write shards of a part's log: every pod flushes on the same 4 s ticks, so at 1M evaluations/s a tick's ~1,000
 * messages each write an item to the same bucket's log within a second, and every dashboard of a popular flag reads
 * that log; by the batch id, they spread over four keys (bench/partitions.bench.ts). Shard 0 is the key without a
 * suffix, the one the log had before shards: what was written then is shard 0 now.
 */
export const logShards = 4;
export const logShardOf = (batchId: string): number => fnv1a(batchId) % logShards;
export const allLogShards = Array.from({ length: logShards }, (_, shard) => shard);

export const wholePart = 'a';
export const bucketPart = (bucket: number) => `b${String(bucket).padStart(2, '0')}`;
/** The parts that can hold a flag's counts. */
export const partsOfFlag = (flagKey: string) => [wholePart, bucketPart(bucketOf(flagKey))];

export const logPartition = (environment: string, part: string, arrival: number, shard: number) =>
  `CL#${environment}#${part}#${dayOf(arrival)}${shard === 0 ? '' : `#s${shard}`}`;
export const logSort = (arrival: number, batchId: string, minute: number) => `${tsText(arrival)}#${batchId}#${minuteText(minute)}`;
export const totalPartition = (environment: string, part: string, minute: number) => `CT#${environment}#${part}#${dayOf(minute)}`;
export const totalSort = (minute: number) => minuteText(minute);
/** The batch ids of a busy part's total, apart from its counts (`<minute>#<key the total names>`). */
export const idsPartition = (environment: string, part: string, minute: number) => `CI#${environment}#${part}#${dayOf(minute)}`;
export const watermarkPartition = 'CW';
export const watermarkSort = (environment: string, part: string) => `${environment}#${part}`;
export function parseWatermarkSort(sk: string): { environment: string; part: string } {
  const cut = sk.lastIndexOf('#');
  return { environment: sk.slice(0, cut), part: sk.slice(cut + 1) };
}

/** The arrival days from one time to another (the log partitions a window covers). */
export function daysFrom(from: number, to: number): string[] {
  const days: string[] = [];
  for (let at = from - (from % 86_400_000); at <= to; at += 86_400_000) days.push(dayOf(at));
  return days;
}
