import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { decodeBatch, encodeBatch, hashTargetingKey, messageSchemaName, PoisonMessageError, type EventBatch } from './evaluation-event.ts';

const batch: EventBatch = {
  schema: messageSchemaName,
  batchId: 'batch0001',
  events: [['flag', 'production', 'on', 'TARGETING_MATCH', 'rule-1', 'abc', 1_700_000_000_000]],
  counts: [['flag', 'production', null, 'ERROR', null, 1_699_999_980_000, 3]],
};

describe('evaluation event messages', () => {
  it('round-trips a batch through the compressed body', async () => {
    const body = await encodeBatch(batch);
    expect(await decodeBatch(body)).toEqual(batch);
  });

  it('compresses repetitive events at least threefold (random key hashes do not compress)', async () => {
    const big: EventBatch = { ...batch, events: Array.from({ length: 5000 }, (_, i) => ['checkout-redesign', 'production', i % 2 ? 'on' : 'off', 'SPLIT', '6a1f2f43-6d0e-4e0b-9a3c-7d3e2b1c0a99', hashTargetingKey(`user-${i}`, 's'), 1_700_000_000_000 + i]) };
    const body = await encodeBatch(big);
    expect(Buffer.byteLength(JSON.stringify(big)) / Buffer.byteLength(body)).toBeGreaterThan(3);
  });

  it('calls a body that can never be processed poison: not gzip, another schema, a wrong shape', async () => {
    const gz = (value: unknown) => gzipSync(JSON.stringify(value)).toString('base64');
    await expect(decodeBatch('not base64 gzip')).rejects.toBeInstanceOf(PoisonMessageError);
    await expect(decodeBatch(gz({ ...batch, schema: 'togglemaster.evaluation-events/9' }))).rejects.toThrow(/unknown message schema/);
    await expect(decodeBatch(gz({ ...batch, events: [['flag']] }))).rejects.toBeInstanceOf(PoisonMessageError);
    await expect(decodeBatch(gz({ ...batch, extra: 1 }))).rejects.toBeInstanceOf(PoisonMessageError);
  });

  it('never carries the targeting key itself', () => {
    const hashed = hashTargetingKey('alice@example.com', 'salt');
    expect(hashed).not.toContain('alice');
    expect(hashed).toBe(hashTargetingKey('alice@example.com', 'salt'));
    expect(hashed).not.toBe(hashTargetingKey('alice@example.com', 'other salt'));
    expect(hashTargetingKey(undefined, 'salt')).toBeNull();
  });
});
