import { describe, expect, it } from 'vitest';
import type { EvaluationEvent } from './evaluation-event.ts';
import { createEventBuffer } from './event-buffer.ts';

const event = (i: number, variant = 'on'): EvaluationEvent => ['flag', 'production', variant, 'STATIC', null, `k${i}`, 1_700_000_000_000 + i * 1000];

/** Every evaluation a batch stands for: raw events plus compact counts. */
const represented = (batch: ReturnType<ReturnType<typeof createEventBuffer>['take']>) => (batch?.events.length ?? 0) + (batch?.counts.reduce((n, c) => n + c[6], 0) ?? 0);

describe('event buffer', () => {
  it('hands out events oldest first, in batches of the asked size', () => {
    const buffer = createEventBuffer(100);
    for (let i = 0; i < 30; i++) buffer.record(event(i));
    const first = buffer.take(20)!;
    expect(first.events.map((e) => e[5])).toEqual(Array.from({ length: 20 }, (_, i) => `k${i}`));
    expect(buffer.take(20)!.events).toHaveLength(10);
    expect(buffer.take(20)).toBeUndefined();
  });

  it('never holds more raw events than its bound, and still counts every evaluation exactly', () => {
    const buffer = createEventBuffer(1000);
    for (let i = 0; i < 25_000; i++) buffer.record(event(i, i % 3 === 0 ? 'a' : 'b'));
    expect(buffer.size).toBe(1000);
    expect(buffer.stats()).toMatchObject({ buffered: 1000, droppedRaw: 24_000, countedOnly: 24_000 });
    const batch = buffer.take(5000)!;
    // The newest 1000 are kept raw; the oldest are kept as counts per minute and variant.
    expect(batch.events[0]![5]).toBe('k24000');
    expect(represented(batch)).toBe(25_000);
    const variantA = batch.events.filter((e) => e[2] === 'a').length + batch.counts.filter((c) => c[2] === 'a').reduce((n, c) => n + c[6], 0);
    expect(variantA).toBe(Math.ceil(25_000 / 3));
    expect(batch.counts.length).toBeLessThan(1000);
  });

  it('takes back a batch that could not be sent, ahead of newer events, losing no count', () => {
    const buffer = createEventBuffer(10);
    for (let i = 0; i < 8; i++) buffer.record(event(i));
    const batch = buffer.take(8)!;
    for (let i = 8; i < 13; i++) buffer.record(event(i));
    buffer.giveBack(batch);
    const again = buffer.take(100)!;
    expect(represented(again)).toBe(13);
    expect(again.events).toHaveLength(10);
    // What did not fit back is the oldest, and it is counted.
    expect(again.events[0]![5]).toBe('k3');
    expect(again.events.at(-1)![5]).toBe('k12');
  });

  it('gives every batch a new id', () => {
    const buffer = createEventBuffer(10);
    buffer.record(event(1));
    const a = buffer.take(10)!;
    buffer.record(event(2));
    expect(buffer.take(10)!.batchId).not.toBe(a.batchId);
  });
});
