import { describe, expect, it } from 'vitest';
import type { QueueProducer } from './queue.ts';
import { madeOnFirstSend } from './transport.ts';

function recordingProducer(sent: string[][]): QueueProducer {
  let requests = 0;
  return {
    async send(bodies) {
      requests += 1;
      sent.push(bodies);
    },
    get requests() {
      return requests;
    },
    async close() {},
  };
}

describe('madeOnFirstSend', () => {
  it('makes the producer on the first send only, once for sends that overlap', async () => {
    let made = 0;
    const sent: string[][] = [];
    const producer = madeOnFirstSend(async () => {
      made += 1;
      return recordingProducer(sent);
    });
    expect(made).toBe(0);
    expect(producer.requests).toBe(0);
    await Promise.all([producer.send(['a'], {}), producer.send(['b'], {})]);
    await producer.send(['c'], {});
    expect(made).toBe(1);
    expect(sent).toEqual([['a'], ['b'], ['c']]);
    expect(producer.requests).toBe(3);
  });

  it('tries again on the next send when making it failed', async () => {
    let attempts = 0;
    const sent: string[][] = [];
    const producer = madeOnFirstSend(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('the SDK could not be loaded');
      return recordingProducer(sent);
    });
    await expect(producer.send(['lost?'], {})).rejects.toThrow('could not be loaded');
    await producer.send(['kept'], {});
    expect(attempts).toBe(2);
    expect(sent).toEqual([['kept']]);
  });
});
