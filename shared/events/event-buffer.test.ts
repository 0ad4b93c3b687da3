import { describe, expect, it } from 'vitest';
import type { EvaluationResult } from '../contracts/evaluation-model.ts';
import type { EvaluationRecord, OutgoingBatch } from './evaluation-event.ts';
import { createEventBuffer } from './event-buffer.ts';

const answer = (variant: string, flagKey = 'flag'): EvaluationResult => ({ flagKey, variant, value: variant, reason: 'STATIC' });
const single = (i: number, variant = 'on'): EvaluationRecord => ({
  environment: 'production',
  targetingKey: `k${i}`,
  at: 1_700_000_000_000 + i * 1000,
  results: [answer(variant)],
});
const bulk = (i: number, flags: number): EvaluationRecord => ({
  ...single(i),
  results: Array.from({ length: flags }, (_, f) => answer('on', `flag-${f}`)),
});

/** Every evaluation a batch stands for: raw events plus compact counts. */
const represented = (batch: OutgoingBatch | undefined) => (batch?.events ?? 0) + (batch?.counts.reduce((n, c) => n + c[6], 0) ?? 0);
const keysOf = (batch: OutgoingBatch) => batch.records.map((r) => r.targetingKey);

describe('event buffer', () => {
  it('hands out records oldest first, whole, in batches of at least the asked number of events', () => {
    const buffer = createEventBuffer(1_000);
    for (let i = 0; i < 30; i++) buffer.record(single(i));
    const first = buffer.take(20)!;
    expect(keysOf(first)).toEqual(Array.from({ length: 20 }, (_, i) => `k${i}`));
    expect(buffer.take(20)!.events).toBe(10);
    expect(buffer.take(20)).toBeUndefined();
    for (let i = 0; i < 3; i++) buffer.record(bulk(i, 50));
    // A bulk request's record is never split: 60 asked, two records (100 events) given.
    expect(buffer.take(60)).toMatchObject({ events: 100, records: [{ targetingKey: 'k0' }, { targetingKey: 'k1' }] });
    expect(buffer.size).toBe(50);
  });

  it('never holds more raw events than its bound, and still counts every evaluation exactly', () => {
    const buffer = createEventBuffer(1000);
    for (let i = 0; i < 25_000; i++) buffer.record(single(i, i % 3 === 0 ? 'a' : 'b'));
    expect(buffer.size).toBe(1000);
    expect(buffer.stats()).toMatchObject({ buffered: 1000, droppedRaw: 24_000, countedOnly: 24_000 });
    const batch = buffer.take(5000)!;
    // The newest 1000 are kept raw; the oldest are kept as counts per minute and variant.
    expect(batch.records[0]!.targetingKey).toBe('k24000');
    expect(represented(batch)).toBe(25_000);
    const variantA =
      batch.records.filter((r) => r.results[0]!.variant === 'a').length +
      batch.counts.filter((c) => c[2] === 'a').reduce((n, c) => n + c[6], 0);
    expect(variantA).toBe(Math.ceil(25_000 / 3));
    expect(batch.counts.length).toBeLessThan(1000);
  });

  it('counts a record bigger than the whole bound without keeping it', () => {
    const buffer = createEventBuffer(100);
    buffer.record(bulk(0, 150));
    expect(buffer.stats()).toEqual({ buffered: 0, droppedRaw: 150, countedOnly: 150 });
  });

  it('takes back a batch that could not be sent, ahead of newer records, losing no count', () => {
    const buffer = createEventBuffer(10);
    for (let i = 0; i < 8; i++) buffer.record(single(i));
    const batch = buffer.take(8)!;
    for (let i = 8; i < 13; i++) buffer.record(single(i));
    buffer.giveBack(batch);
    const again = buffer.take(100)!;
    expect(represented(again)).toBe(13);
    expect(again.events).toBe(10);
    // What did not fit back is the oldest, and it is counted.
    expect(keysOf(again)).toEqual(['k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9', 'k10', 'k11', 'k12']);
  });

  it('keeps its order over many records taken and added (the queue compacts itself)', () => {
    const buffer = createEventBuffer(100_000);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 3_000; i++) buffer.record(single(next++));
      for (const record of buffer.take(2_500)!.records) expect(record.targetingKey).toBe(`k${expected++}`);
    }
    expect(buffer.size).toBe(next - expected);
  });

  it('gives every batch a new id', () => {
    const buffer = createEventBuffer(10);
    buffer.record(single(1));
    const a = buffer.take(10)!;
    buffer.record(single(2));
    expect(buffer.take(10)!.batchId).not.toBe(a.batchId);
  });
});
