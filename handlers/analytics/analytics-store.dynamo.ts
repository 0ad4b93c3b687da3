import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  PutItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { queryAll as queryAllPages } from '../../shared/dynamo/query-all.ts';
import type { AnalyticsStore, CountRow, MetricRow } from './analytics-store.ts';
import { byMetricVariantMinute, dimensionsOf, metricRowsOf, metricsOf } from './analytics-store.ts';
import { createCountLog } from './count-log.dynamo.ts';
import { minuteFromText, minuteText } from './counter-keys.ts';

/*
 * Single-table layout of ToggleMasterAnalytics (docs/analytics.md):
 *   evaluation counts and the sample of raw events: the log, its totals and watermarks of counter-keys.ts
 *     (count-log.dynamo.ts, ADR 15)
 *   MET#<env>#<flag>#<day>    <minute>#B#<batch>, <minute>#T   metric events' sums (count, sum, sum of squares)
 *   DIRTY#<shard>             MET#<env>#<flag>#<minute>        minutes of metric sums still to compact
 * Written by the layout before ADR 15, still read (and compacted) until they expire:
 *   EV#<env>#<flag>#<day>     <ts>#<batch>#<i>     a raw event (gsi1: EVENV#<env>#<day>), no longer listed
 *   CNT#<env>#<flag>#<day>    <minute>#B#<batch>, <minute>#T   counts per batch, flag and minute, and totals
 *   IDX#<env>#<day>           <flag>               flags with CNT items that day
 *   DIRTY#<shard>             <env>#<flag>#<minute>            CNT minutes still to compact
 */
const dirtyShards = 8;
const counterRetentionMs = 400 * 24 * 3600_000;
const compactAfterMs = 2 * 60_000;

const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);
const s = (value: string): AttributeValue => ({ S: value });
// Sums of metric values may be fractions or large: DynamoDB takes exponents written with a capital E.
const n = (value: number): AttributeValue => ({ N: String(value).toUpperCase() });

function shardOf(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) | 0;
  return Math.abs(h) % dirtyShards;
}

function daysBetween(from: number, to: number): string[] {
  const days: string[] = [];
  for (
    let at = Date.UTC(new Date(from).getUTCFullYear(), new Date(from).getUTCMonth(), new Date(from).getUTCDate());
    at <= to;
    at += 86_400_000
  )
    days.push(dayOf(at));
  return days;
}

/** Evaluation counts, or metric events' sums: two families of counters with one idempotent life cycle. */
type CounterFamily = 'CNT' | 'MET';

const counterKey = (family: CounterFamily, environment: string, flagKey: string, minute: number) =>
  `${family}#${environment}#${flagKey}#${dayOf(minute)}`;

/** A dirty marker's sort key: counts keep the form they always had; metric sums say so first. */
const dirtyKey = (family: CounterFamily, environment: string, flagKey: string, minute: number) =>
  `${family === 'MET' ? 'MET#' : ''}${environment}#${flagKey}#${minuteText(minute)}`;

function parseDirtyKey(sk: string): { family: CounterFamily; environment: string; flagKey: string } {
  const parts = sk.split('#');
  const family: CounterFamily = parts.length === 4 && parts[0] === 'MET' ? 'MET' : 'CNT';
  const [environment = '', flagKey = ''] = family === 'MET' ? parts.slice(1) : parts;
  return { family, environment, flagKey };
}

const countsMap = (counts: Map<string, number>): AttributeValue => ({ M: Object.fromEntries([...counts].map(([k, v]) => [k, n(v)])) });
const readCounts = (value: AttributeValue | undefined): Map<string, number> =>
  new Map(Object.entries(value?.M ?? {}).map(([k, v]) => [k, Number(v.N ?? '0')]));

/** `now`: the clock of the log's arrival times (a benchmark replaying hours in minutes passes its own). */
export function createDynamoAnalyticsStore(client: DynamoDBClient, table: string, options: { now?: () => number } = {}): AnalyticsStore {
  async function writeAll(requests: WriteRequest[]): Promise<void> {
    const chunks: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
    let next = 0;
    // A few requests in flight at once; unprocessed items (throttling) are retried with backoff until written.
    await Promise.all(
      Array.from({ length: Math.min(4, chunks.length) }, async () => {
        while (next < chunks.length) {
          let pending = chunks[next++]!;
          for (let attempt = 0; pending.length > 0; attempt++) {
            if (attempt === 10) throw new Error(`DynamoDB left ${pending.length} item(s) unprocessed after 10 attempts`);
            if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 2_000)));
            const result = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
            pending = result.UnprocessedItems?.[table] ?? [];
          }
        }
      }),
    );
  }

  const countLog = createCountLog(client, table, {
    now: options.now ?? Date.now,
    writeAll: (items) => writeAll(items.map((Item) => ({ PutRequest: { Item } }))),
  });

  const queryAll = (input: Omit<QueryCommandInput, 'TableName'>) => queryAllPages(client, table, input);

  /** Folds one minute's batch items into its total. The total carries the ids it holds, so nothing counts twice. */
  async function compactMinute(family: CounterFamily, environment: string, flagKey: string, minute: number): Promise<void> {
    const pk = counterKey(family, environment, flagKey, minute);
    const prefix = `${minuteText(minute)}#`;
    for (let attempt = 0; attempt < 5; attempt++) {
      const items = await queryAll({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': s(pk), ':prefix': s(prefix) },
        ConsistentRead: true,
      });
      const total = items.find((i) => i.sk?.S === `${prefix}T`);
      const included = new Set(total?.batches?.SS ?? []);
      const batches = items.filter((i) => i.sk?.S?.startsWith(`${prefix}B#`));
      const fresh = batches.filter((b) => !included.has(b.batch?.S ?? ''));
      if (fresh.length > 0) {
        const sums = readCounts(total?.c);
        for (const b of fresh) for (const [dims, value] of readCounts(b.c)) sums.set(dims, (sums.get(dims) ?? 0) + value);
        for (const b of fresh) included.add(b.batch?.S ?? '');
        const version = Number(total?.version?.N ?? '0');
        try {
          await client.send(
            new PutItemCommand({
              TableName: table,
              Item: {
                pk: s(pk),
                sk: s(`${prefix}T`),
                kind: s('total'),
                minute: n(minute),
                c: countsMap(sums),
                batches: { SS: [...included] },
                version: n(version + 1),
                expiresAt: n(Math.floor((minute + counterRetentionMs) / 1000)),
              },
              // Two compactors on one minute: only one wins each round; the other reads again.
              ConditionExpression: total ? 'version = :version' : 'attribute_not_exists(pk)',
              ...(total ? { ExpressionAttributeValues: { ':version': n(version) } } : {}),
            }),
          );
        } catch (error) {
          if ((error as { name?: string }).name === 'ConditionalCheckFailedException') continue;
          throw error;
        }
      }
      // Only now that the total holds them may the batch items go (a crash before this only delays their removal).
      for (const b of batches) await client.send(new DeleteItemCommand({ TableName: table, Key: { pk: s(pk), sk: b.sk! } }));
      return;
    }
    throw new Error(`could not compact ${pk} ${prefix}: too much contention`);
  }

  /**
   * A flag's counters of one family per minute between two times: each minute's total plus the batch items its total
   * does not hold yet (compacted but not yet removed ones are not counted again) — exact at any moment.
   */
  async function minutesOf(family: CounterFamily, environment: string, flagKey: string, days: string[], from: number, to: number) {
    const fromMinute = minuteText(from - (from % 60_000));
    const toMinute = `${minuteText(to - (to % 60_000))}#~`;
    const minutes: { minute: number; sums: Map<string, number> }[] = [];
    for (const day of days) {
      const items = await queryAll({
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: { ':pk': s(`${family}#${environment}#${flagKey}#${day}`), ':from': s(fromMinute), ':to': s(toMinute) },
      });
      const byMinute = new Map<string, { total?: Record<string, AttributeValue>; batches: Record<string, AttributeValue>[] }>();
      for (const item of items) {
        const [minute = ''] = (item.sk?.S ?? '').split('#');
        const entry = byMinute.get(minute) ?? { batches: [] };
        if (item.kind?.S === 'total') entry.total = item;
        else entry.batches.push(item);
        byMinute.set(minute, entry);
      }
      for (const [minute, { total, batches }] of byMinute) {
        const included = new Set(total?.batches?.SS ?? []);
        const sums = readCounts(total?.c);
        for (const b of batches)
          if (!included.has(b.batch?.S ?? '')) for (const [dims, value] of readCounts(b.c)) sums.set(dims, (sums.get(dims) ?? 0) + value);
        minutes.push({ minute: minuteFromText(minute), sums });
      }
    }
    return minutes;
  }

  return {
    async writeBatch(batch, retentionMs) {
      // Evaluation counts (and their sample of raw events) go to the log; metric sums keep their items per flag.
      if (batch.events.length > 0 || batch.counts.length > 0) await countLog.write(batch, retentionMs);
      const requests: WriteRequest[] = [];
      for (const group of metricsOf(batch).values()) {
        requests.push({
          PutRequest: {
            Item: {
              pk: s(counterKey('MET', group.environment, group.flagKey, group.minute)),
              sk: s(`${minuteText(group.minute)}#B#${batch.batchId}`),
              kind: s('batch'),
              batch: s(batch.batchId),
              minute: n(group.minute),
              c: countsMap(group.counts),
              expiresAt: n(Math.floor((group.minute + counterRetentionMs) / 1000)),
            },
          },
        });
        const dirty = dirtyKey('MET', group.environment, group.flagKey, group.minute);
        requests.push({
          PutRequest: { Item: { pk: s(`DIRTY#${shardOf(dirty)}`), sk: s(dirty), kind: s('dirty'), minute: n(group.minute) } },
        });
      }
      // Every key is written once (one item and one marker per group): BatchWriteItem refuses a key named twice.
      await writeAll(requests);
    },

    async compact(now) {
      let compacted = 0;
      for (let shard = 0; shard < dirtyShards; shard++) {
        const markers = await queryAll({ KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': s(`DIRTY#${shard}`) } });
        for (const marker of markers) {
          const minute = Number(marker.minute?.N ?? '0');
          if (minute > now - compactAfterMs) continue;
          const { family, environment, flagKey } = parseDirtyKey(marker.sk?.S ?? '');
          await compactMinute(family, environment, flagKey, minute);
          // A batch arriving for this minute after now writes the marker again, and the minute is compacted again.
          await client
            .send(
              new DeleteItemCommand({
                TableName: table,
                Key: { pk: marker.pk!, sk: marker.sk! },
                ConditionExpression: 'minute = :minute',
                ExpressionAttributeValues: { ':minute': n(minute) },
              }),
            )
            .catch(() => undefined);
          compacted += 1;
        }
      }
      return compacted + (await countLog.compact(now));
    },

    async countRows({ environment, flagKey, from, to }) {
      const days = daysBetween(from, to);
      // Counts written before ADR 15, per flag (found through the day's index when no flag is named).
      let flags: string[];
      if (flagKey) flags = [flagKey];
      else {
        const found = new Set<string>();
        for (const day of days)
          for (const item of await queryAll({
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': s(`IDX#${environment}#${day}`) },
          }))
            found.add(item.sk?.S ?? '');
        flags = [...found];
      }
      const rows: CountRow[] = await countLog.countRows(environment, flagKey, from, to);
      for (const flag of flags)
        for (const { minute, sums } of await minutesOf('CNT', environment, flag, days, from, to))
          for (const [dims, count] of sums) {
            const [variant, reason, ruleId] = dimensionsOf(dims);
            rows.push({ flagKey: flag, environment, variant, reason, ruleId, minute, count });
          }
      return rows;
    },

    async metricRows({ environment, flagKey, metric, from, to }) {
      const rows: MetricRow[] = [];
      for (const { minute, sums } of await minutesOf('MET', environment, flagKey, daysBetween(from, to), from, to))
        rows.push(...metricRowsOf(sums, minute, metric));
      return rows.sort(byMetricVariantMinute);
    },

    events: (query) => countLog.events(query),
  };
}
