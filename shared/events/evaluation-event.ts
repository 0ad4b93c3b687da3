import { hash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { EvaluationResult } from '../contracts/evaluation-model.ts';
import { PoisonMessageError } from '../queue/queue.ts';
import { checkMetricMessageBody, metricMessageSchemaName, type MetricAggregate } from './metric-event.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** One evaluation: flag, environment, variant, reason, rule, hashed targeting key, time (epoch ms). */
export type EvaluationEvent = [
  flagKey: string,
  environment: string,
  variant: string | null,
  reason: string,
  ruleId: string | null,
  keyHash: string | null,
  at: number,
];

/** Evaluations whose raw events were dropped while the queue was away, still counted: …, minute (epoch ms), count. */
export type CountedEvaluations = [
  flagKey: string,
  environment: string,
  variant: string | null,
  reason: string,
  ruleId: string | null,
  minute: number,
  count: number,
];

/** The evaluations of one request (one flag, or every flag of a bulk request) for one context at one time. */
export interface EvaluationRecord {
  environment: string;
  /** Held in this process only: the message carries its keyed hash (hashTargetingKey), made when it is encoded. */
  targetingKey: string | undefined;
  at: number;
  results: readonly EvaluationResult[];
}

/** What the evaluation service sends in one message: request records, and counts of records dropped for room. */
export interface OutgoingBatch {
  batchId: string;
  records: EvaluationRecord[];
  counts: CountedEvaluations[];
  /** How many raw events the records hold. */
  events: number;
}

/** A message as the worker uses it: every raw event spelled out, in the message's order, the counts, the metrics' sums. */
export interface EventBatch {
  batchId: string;
  events: EvaluationEvent[];
  counts: CountedEvaluations[];
  /** Metric events' sums (absent: none). */
  metrics?: MetricAggregate[];
}

/** The most raw events one message may stand for; the worker refuses more. */
export const maxEventsPerMessage = 200_000;

export const messageSchemaName = 'togglemaster.evaluation-events/2';
/** Messages of the previous schema may still be in the queue after an upgrade: the worker reads both. */
const previousSchemaName = 'togglemaster.evaluation-events/1';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const Text = Type.String({ minLength: 1, maxLength: 256 });
const Time = Type.Integer({ minimum: 0 });
const BatchId = Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' });
const Counts = Type.Array(Type.Tuple([Text, Text, Nullable(Text), Text, Nullable(Text), Time, Type.Integer({ minimum: 1 })]), {
  maxItems: maxEventsPerMessage,
});

/**
 * The message body (before compression). Each distinct answer, environment and targeting-key hash is written once;
 * an evaluation request is `[time, environment, key (-1: none), answer, answer, …]` by index, so a bulk request of
 * 50 flags costs 50 small numbers, not 50 events.
 */
export const EventMessageSchema = Type.Object(
  {
    schema: Type.Literal(messageSchemaName),
    batchId: BatchId,
    environments: Type.Array(Text, { maxItems: 10_000 }),
    answers: Type.Array(Type.Tuple([Text, Nullable(Text), Text, Nullable(Text)]), { maxItems: maxEventsPerMessage }),
    keys: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: maxEventsPerMessage }),
    evaluations: Type.Array(Type.Array(Type.Integer({ minimum: -1 }), { minItems: 4 }), { maxItems: maxEventsPerMessage }),
    counts: Counts,
  },
  { additionalProperties: false },
);
type EventMessage = Static<typeof EventMessageSchema>;
const checkMessage = Compile(EventMessageSchema);

/** Schema 1: every event spelled out. Read, no longer written. */
const PreviousMessageSchema = Type.Object(
  {
    schema: Type.Literal(previousSchemaName),
    batchId: BatchId,
    events: Type.Array(Type.Tuple([Text, Text, Nullable(Text), Text, Nullable(Text), Nullable(Text), Time]), {
      maxItems: maxEventsPerMessage,
    }),
    counts: Counts,
  },
  { additionalProperties: false },
);
const checkPrevious = Compile(PreviousMessageSchema);

/**
 * The targeting key never leaves the evaluation service: events carry a keyed hash of it (enough to count
 * distinct users, not to recover who they are).
 */
export function hashTargetingKey(key: string | undefined, salt: string): string | null {
  if (key === undefined || key === '') return null;
  // The one-shot hash(): a hash object per call costs ~2.5× as much.
  return hash('sha256', `${salt}\u0000${key}`, 'base64url').slice(0, 22);
}

/** Numbers values in order of first use; two values with the same `idOf` are one. */
function indexer<V, Id = V>(idOf: (value: V) => Id = (value) => value as unknown as Id) {
  const indexes = new Map<Id, number>();
  const values: V[] = [];
  return {
    values,
    indexOf(value: V): number {
      const id = idOf(value);
      let index = indexes.get(id);
      if (index === undefined) {
        index = values.push(value) - 1;
        indexes.set(id, index);
      }
      return index;
    },
  };
}

function toMessage(batch: OutgoingBatch, keySalt: string): EventMessage {
  const environments = indexer<string>();
  const keys = indexer<string>();
  // The engine's answers are shared objects: one look-up by identity. Others (errors about the call) by content.
  const answers = indexer((result: EvaluationResult) =>
    Object.isFrozen(result) ? result : `${result.flagKey}\u0000${result.variant}\u0000${result.reason}\u0000${result.ruleId}`,
  );
  const evaluations = batch.records.map((record) => {
    const key = record.targetingKey;
    const row = [record.at, environments.indexOf(record.environment), key === undefined || key === '' ? -1 : keys.indexOf(key)];
    for (const result of record.results) row.push(answers.indexOf(result));
    return row;
  });
  // Each distinct targeting key of the message is hashed once (a user's SDK asks again and again).
  const keyHashes = keys.values.map((key) => hashTargetingKey(key, keySalt)!);
  return {
    schema: messageSchemaName,
    batchId: batch.batchId,
    environments: environments.values,
    answers: answers.values.map((result) => [result.flagKey, result.variant ?? null, result.reason, result.ruleId ?? null]),
    keys: keyHashes,
    evaluations,
    counts: batch.counts,
  };
}

/** Body of a queue message: gzip of the JSON, in base64 (SQS bodies are text). */
export async function encodeBody(message: object): Promise<string> {
  return (await gzipAsync(JSON.stringify(message))).toString('base64');
}

export const encodeBatch = (batch: OutgoingBatch, keySalt: string): Promise<string> => encodeBody(toMessage(batch, keySalt));

/** A message body must stay under SQS's 256 KiB with room for attributes. */
export const maxBodyBytes = 240 * 1024;

/**
 * The batch's message bodies: one, unless it came out over the limit — then each half, again, as `<id>a` and `<id>b`
 * (the halves of a batch are the same whenever it is encoded, so a batch sent again is written to the same items).
 * `measured` hears each encoding's events and bytes.
 */
export async function encodeWithinLimit(
  batch: OutgoingBatch,
  keySalt: string,
  measured?: (events: number, bytes: number) => void,
): Promise<string[]> {
  const body = await encodeBatch(batch, keySalt);
  const bytes = Buffer.byteLength(body);
  if (batch.events > 0) measured?.(batch.events, bytes);
  if (bytes <= maxBodyBytes || batch.records.length < 2) return [body];
  const half = Math.ceil(batch.records.length / 2);
  const [first, second] = [batch.records.slice(0, half), batch.records.slice(half)];
  const eventsIn = (records: OutgoingBatch['records']) => records.reduce((n, r) => n + r.results.length, 0);
  return [
    ...(await encodeWithinLimit(
      { batchId: `${batch.batchId}a`, records: first, counts: batch.counts, events: eventsIn(first) },
      keySalt,
      measured,
    )),
    ...(await encodeWithinLimit(
      { batchId: `${batch.batchId}b`, records: second, counts: [], events: eventsIn(second) },
      keySalt,
      measured,
    )),
  ];
}

function problemOf(check: typeof checkMessage | typeof checkPrevious, value: unknown, schema: string): PoisonMessageError {
  const first = check.Errors(value)[0];
  return new PoisonMessageError(`the batch does not match ${schema}: ${first ? `${first.instancePath} ${first.message}` : 'invalid'}`);
}

/** Every raw event of a message, checking each index it uses. */
function eventsOf(message: EventMessage): EvaluationEvent[] {
  const events: EvaluationEvent[] = [];
  for (const [at, environmentIndex, keyIndex, ...answerIndexes] of message.evaluations) {
    const environment = message.environments[environmentIndex!];
    const keyHash = keyIndex === -1 ? null : message.keys[keyIndex!];
    if (environment === undefined || keyHash === undefined || at! < 0)
      throw new PoisonMessageError('an evaluation refers to an environment or key the message does not have');
    if (events.length + answerIndexes.length > maxEventsPerMessage)
      throw new PoisonMessageError(`the batch stands for more than ${maxEventsPerMessage} events`);
    for (const answerIndex of answerIndexes) {
      const answer = message.answers[answerIndex];
      if (answer === undefined) throw new PoisonMessageError('an evaluation refers to an answer the message does not have');
      events.push([answer[0], environment, answer[1], answer[2], answer[3], keyHash, at!]);
    }
  }
  return events;
}

/** Decodes and validates a message body; a body that can never be processed is a PoisonMessageError. */
export async function decodeBatch(body: string): Promise<EventBatch> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await gunzipAsync(Buffer.from(body, 'base64'))).toString('utf8'));
  } catch {
    throw new PoisonMessageError('the body is not gzip+base64 JSON');
  }
  const schema = typeof parsed === 'object' && parsed !== null && 'schema' in parsed ? parsed.schema : undefined;
  if (schema === previousSchemaName) {
    if (!checkPrevious.Check(parsed)) throw problemOf(checkPrevious, parsed, previousSchemaName);
    return { batchId: parsed.batchId, events: parsed.events, counts: parsed.counts };
  }
  if (schema === metricMessageSchemaName) {
    const message = checkMetricMessageBody(parsed);
    return { batchId: message.batchId, events: [], counts: [], metrics: message.metrics };
  }
  if (schema !== messageSchemaName) throw new PoisonMessageError(`unknown message schema ${JSON.stringify(schema)}`);
  if (!checkMessage.Check(parsed)) throw problemOf(checkMessage, parsed, messageSchemaName);
  return { batchId: parsed.batchId, events: eventsOf(parsed), counts: parsed.counts };
}

export const minuteOf = (at: number) => at - (at % 60_000);
