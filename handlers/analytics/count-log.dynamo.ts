import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { queryAll as queryAllPages } from '../../shared/dynamo/query-all.ts';
import { Type } from 'typebox';
import type { EventBatch } from '../../shared/events/evaluation-event.ts';
import { decodeCursor, encodeCursor } from '../../shared/http/schemas.ts';
import type { CountRow, EventQuery, EventRow } from './analytics-store.ts';
import { dimensionKey } from './analytics-store.ts';
import {
  bucketOf,
  bucketPart,
  daysFrom,
  idsPartition,
  allLogShards,
  logPartition,
  logShardOf,
  logSort,
  minuteFromText,
  minuteText,
  partsOfFlag,
  totalPartition,
  totalSort,
  tsText,
  parseWatermarkSort,
  watermarkPartition,
  watermarkSort,
  wholeItemBytes,
  wholePart,
} from './counter-keys.ts';

/*
 * The evaluation counters as a log folded into totals (counter-keys.ts, ADR 15). Exactness (ADR 3) holds as before:
 * every item is keyed by its batch, so a batch written again is a second copy of the same counts, and a read or a
 * fold takes one copy of a batch per part and minute (the totals list the batches they hold).
 */

/** One counted dimension: flag, variant, reason, rule, count. */
type Entry = [flagKey: string, variant: string | null, reason: string, ruleId: string | null, n: number];
/** A raw event as the sample keeps it: flag, variant, reason, rule, key hash, time. */
type Sampled = [flagKey: string, variant: string | null, reason: string, ruleId: string | null, keyHash: string | null, at: number];
type Item = Record<string, AttributeValue>;

/** A log item is folded only once it is this old: a write that takes longer is made again under a new arrival. */
const foldAfterMs = 60_000;
const slowWriteMs = 20_000;
/** Totals are folded through a minute's start plus this: a 4 s tick's message of a minute has arrived by then. */
const foldPastMinuteMs = 2_000;
/** The watermark is moved when it falls this far behind (or a fold was large): fewer writes, a few more reads. */
const watermarkEveryMs = 3 * 60_000;
const watermarkEveryItems = 100;
/** Log items outlive their fold by far, whatever the retention of raw events: TTL deletes them, free. */
const minLogLifeMs = 7 * 86_400_000;
/** Totals are kept 400 days (TTL), as the counters always were. */
const counterRetentionMs = 400 * 86_400_000;
/** How late an event's message may arrive and still be listed in the sample (it is counted whenever it comes). */
const sampleLatenessMs = 10 * 60_000;
const maxSampled = 100;
/** A new part's watermark starts this far before its first write. */
const registerMarginMs = 10 * 60_000;

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const packed = (value: unknown): AttributeValue => ({ B: gzipSync(JSON.stringify(value)) });
const unpacked = <T>(value: AttributeValue | undefined): T[] => (value?.B ? (JSON.parse(gunzipSync(value.B).toString('utf8')) as T[]) : []);

/** An item's size as DynamoDB bills it: attribute names and values (numbers at most 21 bytes). */
export function itemBytes(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name);
    if (value.S !== undefined) size += Buffer.byteLength(value.S);
    else if (value.N !== undefined) size += Math.min(21, Math.ceil(value.N.length / 2) + 1);
    else if (value.B !== undefined) size += value.B.length;
    else if (value.SS !== undefined) for (const text of value.SS) size += Buffer.byteLength(text);
    else size += 1;
  }
  return size;
}

/**
 * Adds to a log item what raw events fit before its next kilobyte (it pays that write unit anyway): evenly spread
 * over the part's events of the minute, at most `maxSampled`.
 */
function withSample(item: Item, events: Sampled[]): Item {
  if (events.length === 0) return item;
  const room = Math.ceil(itemBytes(item) / 1024) * 1024 - itemBytes(item) - 1 - 8;
  const pick = (k: number) => Array.from({ length: k }, (_, i) => events[Math.floor((i * events.length) / k)]!);
  let best: AttributeValue | undefined;
  let [low, high] = [1, Math.min(maxSampled, events.length)];
  while (low <= high) {
    const k = (low + high) >> 1;
    const value = packed(pick(k));
    if (value.B!.length <= room) {
      best = value;
      low = k + 1;
    } else high = k - 1;
  }
  return best ? { ...item, e: best } : item;
}

/**
 * A batch's log items: per environment and minute, one item in part `a`, or one per flag bucket when large (pure:
 * bench/partitions.bench.ts replays them).
 */
export function logItemsOf(batch: EventBatch, retentionMs: number, arrival: number) {
  const minutes = new Map<string, { environment: string; minute: number; counts: Map<string, Entry>; events: Sampled[] }>();
  const groupOf = (environment: string, minute: number) => {
    const id = `${environment}\u0000${minute}`;
    let group = minutes.get(id);
    if (!group) minutes.set(id, (group = { environment, minute, counts: new Map(), events: [] }));
    return group;
  };
  const add = (
    group: ReturnType<typeof groupOf>,
    flagKey: string,
    variant: string | null,
    reason: string,
    ruleId: string | null,
    k: number,
  ) => {
    const id = `${flagKey}\u0000${dimensionKey(variant, reason, ruleId)}`;
    const entry = group.counts.get(id);
    if (entry) entry[4] += k;
    else group.counts.set(id, [flagKey, variant, reason, ruleId, k]);
  };
  for (const [flagKey, environment, variant, reason, ruleId, keyHash, at] of batch.events) {
    const group = groupOf(environment, at - (at % 60_000));
    add(group, flagKey, variant, reason, ruleId, 1);
    group.events.push([flagKey, variant, reason, ruleId, keyHash, at]);
  }
  for (const [flagKey, environment, variant, reason, ruleId, minute, k] of batch.counts)
    add(groupOf(environment, minute), flagKey, variant, reason, ruleId, k);

  const items: { environment: string; part: string; item: Item }[] = [];
  for (const { environment, minute, counts, events } of minutes.values()) {
    // Sorted, so the same batch always makes the same items (a redelivery writes the same counts again).
    const entries = [...counts.values()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    const whole = packed(entries);
    const parts =
      whole.B!.length <= wholeItemBytes
        ? [{ part: wholePart, entries, events, c: whole }]
        : [...Map.groupBy(entries, (e) => bucketOf(e[0]))].map(([bucket, bucketEntries]) => {
            const flags = new Set(bucketEntries.map((e) => e[0]));
            return {
              part: bucketPart(bucket),
              entries: bucketEntries,
              events: events.filter((e) => flags.has(e[0])),
              c: packed(bucketEntries),
            };
          });
    for (const { part, events: partEvents, c } of parts) {
      const item: Item = {
        pk: s(logPartition(environment, part, arrival, logShardOf(batch.batchId))),
        sk: s(logSort(arrival, batch.batchId, minute)),
        batch: s(batch.batchId),
        minute: n(minute),
        c,
        retentionMs: n(retentionMs),
        expiresAt: n(Math.floor((arrival + Math.max(retentionMs, minLogLifeMs)) / 1000)),
      };
      items.push({ environment, part, item: withSample(item, partEvents) });
    }
  }
  return items;
}

/** Above this many bytes of batch ids, a total keeps them in items of their own, read only when a read needs them. */
const inlineIdsBytes = 4_096;
/** Batch ids per ids item: DynamoDB takes items of up to 400 KB; a batch id is up to 64 characters (~70 bytes in a set). */
export const idsPerItem = 4_000;

/**
 * A part's total of one minute — its counts, the batches it holds, its version — as the items to write (pure: the
 * partitions bench sizes them). Many batches (a busy part: ~3,750 a minute at 1M/s) go in an ids item of their own,
 * written first under a key of this attempt (`idsKey`), which the total names: a read of the counts then reads no
 * ids, and a total only ever names ids that were written with it. Past `idsPerItem` they are cut into several items
 * (`<minute>#<idsKey>#<n>`, the total says how many): at 1M/s a busy part's minute holds ~15,000.
 */
export function totalItemsOf(
  environment: string,
  part: string,
  minute: number,
  rows: CountRow[],
  batches: string[],
  version: number,
  idsKey: string,
): { ids: Item[]; total: Item } {
  const expiresAt = n(Math.floor((minute + counterRetentionMs) / 1000));
  const total: Item = {
    pk: s(totalPartition(environment, part, minute)),
    sk: s(totalSort(minute)),
    kind: s('total'),
    c: packed(rows.map((r): Entry => [r.flagKey, r.variant, r.reason, r.ruleId, r.count])),
    version: n(version),
    expiresAt,
  };
  if (batches.reduce((bytes, id) => bytes + id.length, 0) <= inlineIdsBytes)
    return { ids: [], total: { ...total, batches: { SS: batches } } };
  const ids: Item[] = [];
  for (let from = 0; from < batches.length; from += idsPerItem)
    ids.push({
      pk: s(idsPartition(environment, part, minute)),
      sk: s(`${totalSort(minute)}#${idsKey}#${ids.length}`),
      kind: s('ids'),
      batches: { SS: batches.slice(from, from + idsPerItem) },
      expiresAt,
    });
  return { ids, total: { ...total, ids: s(idsKey), idsItems: n(ids.length) } };
}

/** A part's watermark: the arrival time through which its log is folded, and its version (moved conditionally). */
const watermarkItem = (environment: string, part: string, through: number, version: number): Item => ({
  pk: s(watermarkPartition),
  sk: s(watermarkSort(environment, part)),
  kind: s('watermark'),
  through: n(through),
  version: n(version),
});

const isConditionFailure = (error: unknown) => (error as { name?: string }).name === 'ConditionalCheckFailedException';

/** Where a page of sampled events ended: a log item (its sort key and part) and how many of its events were answered. */
const SamplePosition = Type.Object(
  {
    sk: Type.String({ pattern: '^[0-9]{13}#[A-Za-z0-9_-]{8,64}#[0-9T:-]{16}$' }),
    part: Type.String({ pattern: '^(a|b[0-9]{2})$' }),
    skip: Type.Integer({ minimum: 0, maximum: 100_000 }),
  },
  { additionalProperties: false },
);

export function createCountLog(
  client: DynamoDBClient,
  table: string,
  options: { now: () => number; writeAll: (items: Item[]) => Promise<void> },
) {
  const { now } = options;
  /** The parts this process has registered (a watermark item exists for each): registered once, not per batch. */
  const registered = new Set<string>();

  const queryAll = (input: Omit<QueryCommandInput, 'TableName'>) => queryAllPages(client, table, input);

  /** The parts of an environment with their watermarks (strongly consistent: a read must not see one too new). */
  async function watermarks(environment: string): Promise<Map<string, { through: number; version: number }>> {
    const items = await queryAll({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :env)',
      ExpressionAttributeValues: { ':pk': s(watermarkPartition), ':env': s(`${environment}#`) },
      ConsistentRead: true,
    });
    const marks = new Map<string, { through: number; version: number }>();
    for (const item of items) {
      const { environment: env, part } = parseWatermarkSort(item.sk?.S ?? '');
      if (env === environment) marks.set(part, { through: Number(item.through?.N ?? '0'), version: Number(item.version?.N ?? '0') });
    }
    return marks;
  }

  async function register(environment: string, part: string): Promise<void> {
    const id = `${environment}\u0000${part}`;
    if (registered.has(id)) return;
    try {
      await client.send(
        new PutItemCommand({
          TableName: table,
          // Nothing of this part was written before now (less a margin for clocks and slow writes).
          Item: watermarkItem(environment, part, now() - registerMarginMs, 0),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    registered.add(id);
  }

  async function write(batch: EventBatch, retentionMs: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const arrival = now();
      const items = logItemsOf(batch, retentionMs, arrival);
      for (const { environment, part } of items) await register(environment, part);
      await options.writeAll(items.map((i) => i.item));
      // A fold reads the log up to a minute ago: an item that landed later than that could be passed over. Written
      // again under a new arrival, it is folded then (the first copy, if folded too, is the same batch: counted once).
      if (now() - arrival <= slowWriteMs || items.length === 0) return;
      if (attempt === 3) throw new Error(`writing batch ${batch.batchId} took over ${slowWriteMs} ms four times`);
    }
  }

  /** Adds one log item's entries to sums per (flag, minute, dimension). */
  function addEntries(sums: Map<string, CountRow>, environment: string, minute: number, entries: Entry[], flagKey?: string) {
    for (const [flag, variant, reason, ruleId, k] of entries) {
      if (flagKey !== undefined && flag !== flagKey) continue;
      const id = `${flag}\u0000${minute}\u0000${dimensionKey(variant, reason, ruleId)}`;
      const row = sums.get(id);
      if (row) row.count += k;
      else sums.set(id, { flagKey: flag, environment, variant, reason, ruleId, minute, count: k });
    }
  }

  /** A part's log items after `through`, in arrival order (its shards merged: the sort key begins with the arrival). */
  async function logAfter(environment: string, part: string, through: number, until: number, consistent: boolean): Promise<Item[]> {
    const items: Item[] = [];
    for (const day of daysFrom(through, until)) {
      const shards = await Promise.all(
        allLogShards.map((shard) =>
          queryAll({
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':pk': s(logPartition(environment, part, Date.parse(day), shard)),
              ':from': s(`${tsText(through + 1)}`),
              ':to': s(`${tsText(until)}#~`),
            },
            ConsistentRead: consistent,
          }),
        ),
      );
      items.push(...shards.flat().sort((x, y) => (x.sk!.S! < y.sk!.S! ? -1 : x.sk!.S! > y.sk!.S! ? 1 : 0)));
    }
    return items;
  }

  /** The batches a total holds: in it, or in the ids items it names (strongly consistent: written before the total). */
  async function heldBy(environment: string, part: string, minute: number, total: Item | undefined): Promise<Set<string>> {
    if (!total?.ids?.S) return new Set(total?.batches?.SS ?? []);
    // A total written before ids were cut into items names one item, `<minute>#<idsKey>`.
    const sks = total.idsItems?.N
      ? Array.from({ length: Number(total.idsItems.N) }, (_, i) => `${totalSort(minute)}#${total.ids!.S}#${i}`)
      : [`${totalSort(minute)}#${total.ids.S}`];
    const held = new Set<string>();
    for (const sk of sks) {
      const key = { pk: s(idsPartition(environment, part, minute)), sk: s(sk) };
      const ids = (await client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
      if (!ids) throw new Error(`the batch ids ${sk} of ${totalPartition(environment, part, minute)} ${totalSort(minute)} are missing`);
      for (const id of ids.batches?.SS ?? []) held.add(id);
    }
    return held;
  }

  /** Folds one part's log from its watermark to `target` into its totals; returns how many totals it wrote. */
  async function foldPart(environment: string, part: string, mark: { through: number; version: number }, target: number) {
    const log = await logAfter(environment, part, mark.through, target, true);
    const byMinute = Map.groupBy(log, (i) => Number(i.minute?.N ?? '0'));
    let written = 0;
    for (const [minute, items] of byMinute) {
      const key = { pk: s(totalPartition(environment, part, minute)), sk: s(totalSort(minute)) };
      for (let attempt = 0; ; attempt++) {
        const total = (await client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
        const held = await heldBy(environment, part, minute, total);
        const fresh = new Map<string, Item>();
        for (const item of items) if (!held.has(item.batch?.S ?? '')) fresh.set(item.batch?.S ?? '', item);
        if (fresh.size === 0) break;
        const sums = new Map<string, CountRow>();
        addEntries(sums, environment, minute, unpacked<Entry>(total?.c));
        for (const item of fresh.values()) addEntries(sums, environment, minute, unpacked<Entry>(item.c));
        const version = Number(total?.version?.N ?? '0');
        try {
          const { ids, total: next } = totalItemsOf(
            environment,
            part,
            minute,
            [...sums.values()],
            [...held, ...fresh.keys()],
            version + 1,
            randomUUID(),
          );
          // The ids first: the total that names them is then never read without them.
          for (const item of ids) await client.send(new PutItemCommand({ TableName: table, Item: item }));
          await client.send(
            new PutItemCommand({
              TableName: table,
              Item: next,
              // Two compactors on one minute: one wins each round; the other reads again.
              ConditionExpression: total ? 'version = :version' : 'attribute_not_exists(pk)',
              ...(total ? { ExpressionAttributeValues: { ':version': n(version) } } : {}),
            }),
          );
          written += 1;
          break;
        } catch (error) {
          if (!isConditionFailure(error) || attempt === 4) throw error;
        }
      }
    }
    if (target - mark.through >= watermarkEveryMs || log.length >= watermarkEveryItems)
      await client
        .send(
          new PutItemCommand({
            TableName: table,
            Item: watermarkItem(environment, part, target, mark.version + 1),
            ConditionExpression: 'version = :version',
            ExpressionAttributeValues: { ':version': n(mark.version) },
          }),
        )
        // Another compactor moved it first: what this one folded is in the totals either way.
        .catch((error: unknown) => {
          if (!isConditionFailure(error)) throw error;
        });
    return written;
  }

  return {
    write,

    /** Folds every registered part of every environment; returns the totals written. */
    async compact(at: number): Promise<number> {
      // Through a minute's start (plus a tick's delivery), so a fold normally touches one minute's total, once.
      const ready = at - foldAfterMs - foldPastMinuteMs;
      const target = ready - (ready % 60_000) + foldPastMinuteMs;
      let written = 0;
      const marks = await queryAll({
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': s(watermarkPartition) },
        ConsistentRead: true,
      });
      for (const item of marks) {
        const { environment, part } = parseWatermarkSort(item.sk?.S ?? '');
        const mark = { through: Number(item.through?.N ?? '0'), version: Number(item.version?.N ?? '0') };
        if (target > mark.through) written += await foldPart(environment, part, mark, target);
      }
      return written;
    },

    /** Exact counts: the totals of the range's minutes plus the log after each part's watermark not in a total. */
    async countRows(environment: string, flagKey: string | undefined, from: number, to: number): Promise<CountRow[]> {
      const fromMinute = from - (from % 60_000);
      const toMinute = to - (to % 60_000);
      const marks = await watermarks(environment);
      const parts = flagKey ? partsOfFlag(flagKey).filter((p) => marks.has(p)) : [...marks.keys()];
      const sums = new Map<string, CountRow>();
      for (const part of parts) {
        const held = new Map<number, Set<string>>();
        // A total whose ids are apart: they are read only if the log after the watermark has that minute.
        const totals = new Map<number, Item>();
        for (const day of daysFrom(fromMinute, toMinute))
          for (const total of await queryAll({
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':pk': s(totalPartition(environment, part, Date.parse(day))),
              ':from': s(minuteText(fromMinute)),
              ':to': s(minuteText(toMinute)),
            },
            // Read after the watermark: a total must hold every batch the watermark says it does.
            ConsistentRead: true,
          })) {
            const minute = minuteFromText(total.sk?.S ?? '');
            totals.set(minute, total);
            addEntries(sums, environment, minute, unpacked<Entry>(total.c), flagKey);
          }
        for (const item of await logAfter(environment, part, marks.get(part)!.through, now() + 60_000, false)) {
          const minute = Number(item.minute?.N ?? '0');
          if (minute < fromMinute || minute > toMinute) continue;
          const batch = item.batch?.S ?? '';
          if (!held.has(minute)) held.set(minute, await heldBy(environment, part, minute, totals.get(minute)));
          const seen = held.get(minute)!;
          if (seen.has(batch)) continue;
          seen.add(batch);
          addEntries(sums, environment, minute, unpacked<Entry>(item.c), flagKey);
        }
      }
      return [...sums.values()];
    },

    /**
     * The sampled raw events of a flag, or of an environment's flags, newest first by arrival, a page at a time.
     * Only events whose message arrived within `sampleLatenessMs` of them are listed (all are counted).
     */
    async events({ environment, flagKey, flagKeys, variant, from, to, limit, cursor, now: at }: EventQuery) {
      const position = cursor ? decodeCursor(cursor, SamplePosition) : undefined;
      const marks = await watermarks(environment);
      const parts = (flagKey ? partsOfFlag(flagKey) : [...marks.keys()]).filter((p) => marks.has(p));
      const until = Math.min(to + sampleLatenessMs, at + 60_000);
      const days = daysFrom(from, until).reverse();
      const upper = position ? position.sk : `${tsText(until)}#~`;
      /** Each part's items (each shard of its log a stream), newest first, fetched a page at a time. */
      const streams = parts
        .flatMap((part) => allLogShards.map((shard) => ({ part, shard })))
        .map(({ part, shard }) => {
          let day = 0;
          let start: Item | undefined;
          let buffer: Item[] = [];
          return {
            part,
            async head(): Promise<Item | undefined> {
              while (buffer.length === 0 && day < days.length) {
                const page = await client.send(
                  new QueryCommand({
                    TableName: table,
                    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
                    ExpressionAttributeValues: {
                      ':pk': s(logPartition(environment, part, Date.parse(days[day]!), shard)),
                      ':from': s(tsText(from)),
                      ':to': s(upper),
                    },
                    ScanIndexForward: false,
                    Limit: 50,
                    ...(start ? { ExclusiveStartKey: start } : {}),
                  }),
                );
                buffer = (page.Items ?? []).filter(
                  (i) => !position || i.sk!.S! < position.sk || (i.sk!.S === position.sk && part <= position.part),
                );
                start = page.LastEvaluatedKey;
                if (!start) day += 1;
              }
              return buffer[0];
            },
            next: () => void buffer.shift(),
          };
        });
      const items: EventRow[] = [];
      for (;;) {
        let newest: { stream: (typeof streams)[number]; item: Item } | undefined;
        for (const stream of streams) {
          const item = await stream.head();
          if (!item) continue;
          const sk = item.sk!.S!;
          if (!newest || sk > newest.item.sk!.S! || (sk === newest.item.sk!.S! && stream.part > newest.stream.part))
            newest = { stream, item };
        }
        if (!newest) return { items, nextCursor: null };
        newest.stream.next();
        const { item } = newest;
        const retentionMs = Number(item.retentionMs?.N ?? '0');
        const matching = unpacked<Sampled>(item.e)
          .filter(
            ([flag, v, , , , time]) =>
              (!flagKey || flag === flagKey) &&
              (!flagKeys || flagKeys.has(flag)) &&
              (!variant || v === variant) &&
              time >= from &&
              time <= to &&
              // Never past their retention, whether or not DynamoDB's TTL has removed the item yet.
              time + retentionMs > at,
          )
          .sort((x, y) => y[5] - x[5]);
        const resumed = position && item.sk!.S === position.sk && newest.stream.part === position.part ? position.skip : 0;
        for (let i = resumed; i < matching.length; i++) {
          const [flag, v, reason, ruleId, keyHash, time] = matching[i]!;
          items.push({ flagKey: flag, environment, variant: v, reason, ruleId, keyHash, at: time });
          if (items.length === limit) {
            const more = i + 1 < matching.length || (await Promise.all(streams.map((st) => st.head()))).some(Boolean);
            return {
              items,
              nextCursor: more
                ? encodeCursor(
                    i + 1 < matching.length
                      ? { sk: item.sk!.S!, part: newest.stream.part, skip: i + 1 }
                      : { sk: item.sk!.S!, part: newest.stream.part, skip: matching.length },
                  )
                : null,
            };
          }
        }
      }
    },
  };
}

export type CountLog = ReturnType<typeof createCountLog>;
