import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** One evaluation: flag, environment, variant, reason, rule, hashed targeting key, time (epoch ms). */
export type EvaluationEvent = [flagKey: string, environment: string, variant: string | null, reason: string, ruleId: string | null, keyHash: string | null, at: number];

/** Evaluations whose raw events were dropped while the queue was away, still counted: …, minute (epoch ms), count. */
export type CountedEvaluations = [flagKey: string, environment: string, variant: string | null, reason: string, ruleId: string | null, minute: number, count: number];

export const messageSchemaName = 'togglemaster.evaluation-events/1';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const Text = Type.String({ minLength: 1, maxLength: 256 });

/** The message body (before compression), validated by the worker: anything else goes to the dead-letter queue. */
export const EventBatchSchema = Type.Object(
  {
    schema: Type.Literal(messageSchemaName),
    batchId: Type.String({ pattern: '^[A-Za-z0-9_-]{8,64}$' }),
    events: Type.Array(Type.Tuple([Text, Text, Nullable(Text), Text, Nullable(Text), Nullable(Text), Type.Integer({ minimum: 0 })]), { maxItems: 200_000 }),
    counts: Type.Array(Type.Tuple([Text, Text, Nullable(Text), Text, Nullable(Text), Type.Integer({ minimum: 0 }), Type.Integer({ minimum: 1 })]), { maxItems: 200_000 }),
  },
  { additionalProperties: false },
);
export type EventBatch = Static<typeof EventBatchSchema>;
const checkBatch = Compile(EventBatchSchema);

/**
 * The targeting key never leaves the evaluation service: events carry a keyed hash of it (enough to count
 * distinct users, not to recover who they are).
 */
export function hashTargetingKey(key: string | undefined, salt: string): string | null {
  if (key === undefined || key === '') return null;
  return createHash('sha256').update(salt).update('\u0000').update(key).digest('base64url').slice(0, 22);
}

/** Body of a queue message: gzip of the JSON, in base64 (SQS bodies are text). ~10× smaller than the JSON. */
export async function encodeBatch(batch: EventBatch): Promise<string> {
  return (await gzipAsync(JSON.stringify(batch))).toString('base64');
}

export class PoisonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}

/** Decodes and validates a message body; a body that can never be processed is a PoisonMessageError. */
export async function decodeBatch(body: string): Promise<EventBatch> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await gunzipAsync(Buffer.from(body, 'base64'))).toString('utf8'));
  } catch {
    throw new PoisonMessageError('the body is not gzip+base64 JSON');
  }
  if (typeof parsed === 'object' && parsed !== null && 'schema' in parsed && parsed.schema !== messageSchemaName) {
    throw new PoisonMessageError(`unknown message schema ${JSON.stringify(parsed.schema)}`);
  }
  if (!checkBatch.Check(parsed)) {
    const first = checkBatch.Errors(parsed)[0];
    throw new PoisonMessageError(`the batch does not match ${messageSchemaName}: ${first ? `${first.instancePath} ${first.message}` : 'invalid'}`);
  }
  return parsed;
}

export const minuteOf = (at: number) => at - (at % 60_000);
