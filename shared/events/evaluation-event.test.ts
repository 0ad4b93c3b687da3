import { describe, expect, it } from 'vitest';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { EvaluationResult } from '../contracts/evaluation-model.ts';
import { decodeBatch, encodeBatch, hashTargetingKey, messageSchemaName, type OutgoingBatch } from './evaluation-event.ts';
import { PoisonMessageError } from '../queue/queue.ts';

const at = 1_700_000_000_000;
const on: EvaluationResult = Object.freeze({ flagKey: 'flag', variant: 'on', value: true, reason: 'TARGETING_MATCH', ruleId: 'rule-1' });
const other: EvaluationResult = Object.freeze({ flagKey: 'other', variant: 'b', value: 'b', reason: 'SPLIT' });
const batch: OutgoingBatch = {
  batchId: 'batch0001',
  records: [
    { environment: 'production', targetingKey: 'alice', at, results: [on, other] },
    {
      environment: 'staging',
      targetingKey: undefined,
      at: at + 5,
      results: [{ flagKey: 'gone', reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' }],
    },
    { environment: 'production', targetingKey: 'alice', at: at + 9, results: [on] },
  ],
  counts: [['flag', 'production', null, 'ERROR', null, 1_699_999_980_000, 3]],
  events: 4,
};
const gz = (value: unknown) => gzipSync(JSON.stringify(value)).toString('base64');

describe('evaluation event messages', () => {
  it('round-trips a batch: every raw event spelled out, in order, with the key hashed, and the counts', async () => {
    const alice = hashTargetingKey('alice', 'salt');
    const body = await encodeBatch(batch, 'salt');
    expect(gunzipSync(Buffer.from(body, 'base64')).toString()).not.toContain('alice');
    expect(await decodeBatch(body)).toEqual({
      batchId: 'batch0001',
      events: [
        ['flag', 'production', 'on', 'TARGETING_MATCH', 'rule-1', alice, at],
        ['other', 'production', 'b', 'SPLIT', null, alice, at],
        ['gone', 'staging', null, 'ERROR', null, null, at + 5],
        ['flag', 'production', 'on', 'TARGETING_MATCH', 'rule-1', alice, at + 9],
      ],
      counts: batch.counts,
    });
  });

  it('writes a bulk request as one entry of answer indexes, and each distinct answer once', async () => {
    const answers = Array.from({ length: 50 }, (_, i): EvaluationResult =>
      Object.freeze({
        flagKey: `flag-${i}`,
        variant: 'treatment',
        value: 'treatment',
        reason: 'SPLIT',
        ruleId: '6a1f2f43-6d0e-4e0b-9a3c-7d3e2b1c0a99',
      }),
    );
    const records = Array.from({ length: 200 }, (_, i) => ({
      environment: 'production',
      targetingKey: `user-${i}`,
      at: at + i,
      results: answers,
    }));
    const body = await encodeBatch({ batchId: 'bulk00001', records, counts: [], events: 10_000 }, 's');
    const decoded = await decodeBatch(body);
    expect(decoded.events).toHaveLength(10_000);
    expect(decoded.events[50]).toEqual([
      'flag-0',
      'production',
      'treatment',
      'SPLIT',
      '6a1f2f43-6d0e-4e0b-9a3c-7d3e2b1c0a99',
      hashTargetingKey('user-1', 's'),
      at + 1,
    ]);
    // Under a byte per raw event: the key hashes (random) are most of it.
    expect(Buffer.byteLength(body)).toBeLessThan(10_000);
  });

  it('still reads messages of the previous schema (in the queue during an upgrade)', async () => {
    const previous = {
      schema: 'togglemaster.evaluation-events/1',
      batchId: 'batch0002',
      events: [['flag', 'production', 'on', 'STATIC', null, 'abc', at]],
      counts: [],
    };
    expect(await decodeBatch(gz(previous))).toEqual({ batchId: 'batch0002', events: previous.events, counts: [] });
  });

  it('calls a body that can never be processed poison: not gzip, another schema, a wrong shape, an index out of range', async () => {
    const message = {
      schema: messageSchemaName,
      batchId: 'batch0003',
      environments: ['production'],
      answers: [['flag', 'on', 'STATIC', null]],
      keys: ['abc'],
      evaluations: [[at, 0, 0, 0]],
      counts: [],
    };
    expect((await decodeBatch(gz(message))).events).toEqual([['flag', 'production', 'on', 'STATIC', null, 'abc', at]]);
    await expect(decodeBatch('not base64 gzip')).rejects.toBeInstanceOf(PoisonMessageError);
    await expect(decodeBatch(gz({ ...message, schema: 'togglemaster.evaluation-events/9' }))).rejects.toThrow(/unknown message schema/);
    await expect(decodeBatch(gz({ ...message, answers: [['flag']] }))).rejects.toBeInstanceOf(PoisonMessageError);
    await expect(decodeBatch(gz({ ...message, extra: 1 }))).rejects.toBeInstanceOf(PoisonMessageError);
    await expect(decodeBatch(gz({ ...message, evaluations: [[at, 0, 0, 1]] }))).rejects.toThrow(/answer the message does not have/);
    await expect(decodeBatch(gz({ ...message, evaluations: [[at, 1, 0, 0]] }))).rejects.toThrow(/environment or key/);
    await expect(decodeBatch(gz({ ...message, evaluations: [[at, 0, 3, 0]] }))).rejects.toThrow(/environment or key/);
    await expect(decodeBatch(gz({ ...message, evaluations: [[-5, 0, 0, 0]] }))).rejects.toBeInstanceOf(PoisonMessageError);
    await expect(decodeBatch(gz({ ...message, evaluations: [[at, 0, 0, ...new Array<number>(200_001).fill(0)]] }))).rejects.toThrow(
      /more than 200000 events/,
    );
  });

  it('never carries the targeting key itself', () => {
    const hashed = hashTargetingKey('alice@example.com', 'salt');
    expect(hashed).not.toContain('alice');
    expect(hashed).toBe(hashTargetingKey('alice@example.com', 'salt'));
    expect(hashed).not.toBe(hashTargetingKey('alice@example.com', 'other salt'));
    expect(hashTargetingKey(undefined, 'salt')).toBeNull();
  });
});
