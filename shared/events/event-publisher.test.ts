import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { EvaluationResult } from '../contracts/evaluation-model.ts';
import { createLogger } from '../logging/logger.ts';
import type { QueueProducer } from '../queue/queue.ts';
import { decodeBatch } from './evaluation-event.ts';
import { createEventPublisher } from './event-publisher.ts';

/** A queue that refuses the first `failures` sends and keeps every body it accepts. */
function flakyQueue(failures: number) {
  const accepted: string[][] = [];
  let refused = 0;
  const producer: QueueProducer = {
    requests: 0,
    async send(bodies) {
      if (refused < failures) {
        refused += 1;
        throw new Error('queue unavailable');
      }
      accepted.push(bodies);
    },
    async close() {},
  };
  return { producer, accepted };
}

const answer = (i: number): EvaluationResult =>
  Object.freeze({ flagKey: `flag-${i % 7}`, variant: i % 2 ? 'on' : 'off', value: i % 2 === 1, reason: 'SPLIT' });

describe('event publisher', () => {
  it('sends several messages at once, and after a failed send delivers every event once, in order', async () => {
    const { producer, accepted } = flakyQueue(1);
    const publisher = createEventPublisher({
      producer,
      maxBuffered: 1_000_000,
      intervalMs: 60_000,
      keySalt: 's',
      logger: createLogger('silent', 'test'),
      metrics: new Registry(),
    });
    const n = 60_000;
    for (let i = 0; i < n; i++) publisher.record('production', [answer(i)], { targetingKey: `user-${i}` });
    // The first send (several full messages) fails and is put back; stop() sends everything.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await publisher.stop();
    const events = [];
    for (const bodies of accepted) for (const body of bodies) events.push(...(await decodeBatch(body)).events);
    expect(events).toHaveLength(n);
    expect(events.map((e) => e[0])).toEqual(Array.from({ length: n }, (_, i) => `flag-${i % 7}`));
    expect(new Set(events.map((e) => e[5])).size).toBe(n);
    // Full messages went out up to ten to a request.
    expect(Math.max(...accepted.map((bodies) => bodies.length))).toBeGreaterThan(1);
  }, 20_000); // 60,000 events compressed: seconds on a busy shared machine
});

describe('event publisher ticks', () => {
  it('sends on multiples of the interval, so a 4 s message never holds two minutes', async () => {
    const { vi } = await import('vitest');
    vi.useFakeTimers({
      now: Date.UTC(2026, 10, 24, 12, 0, 2, 0),
      toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'Date'],
    });
    try {
      const sentAt: number[] = [];
      const producer: QueueProducer = {
        requests: 0,
        async send() {
          sentAt.push(Date.now());
        },
        async close() {},
      };
      const publisher = createEventPublisher({
        producer,
        maxBuffered: 1_000,
        intervalMs: 4_000,
        keySalt: 's',
        logger: createLogger('silent', 'test'),
        metrics: new Registry(),
      });
      publisher.start();
      // Started 2 s before a multiple of 4 s: the first tick comes then, and every 4 s after it. The clock stops at
      // each tick, so the producer sees the tick's time.
      for (let tick = 0; tick < 4; tick++) {
        publisher.record('production', [answer(tick)], { targetingKey: 'u' });
        await vi.advanceTimersByTimeAsync(tick === 0 ? 4_000 - (Date.now() % 4_000) : 4_000);
        // The tick's send compresses off the event loop: join it (nothing is left for flush itself to send).
        await publisher.flush();
      }
      await publisher.stop();
      expect(sentAt).toHaveLength(4);
      for (const at of sentAt) expect(at % 4_000).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('flush() sends what is buffered at once, with the events on the clock it was given', async () => {
    const { producer, accepted } = flakyQueue(0);
    const publisher = createEventPublisher({
      producer,
      maxBuffered: 1_000,
      intervalMs: 60_000,
      keySalt: 's',
      logger: createLogger('silent', 'test'),
      metrics: new Registry(),
      now: () => 1_000_000,
    });
    publisher.record('production', [answer(1)], { targetingKey: 'u' });
    await publisher.flush();
    expect(accepted).toHaveLength(1);
    expect((await decodeBatch(accepted[0]![0]!)).events[0]![6]).toBe(1_000_000);
    await publisher.stop();
  });
});

describe('event publisher flush during a send', () => {
  it('sends everything buffered when a tick comes while a full message is being sent', async () => {
    const accepted: string[] = [];
    const producer: QueueProducer = {
      requests: 0,
      async send(bodies) {
        await new Promise((r) => setTimeout(r, 100));
        accepted.push(...bodies);
      },
      async close() {},
    };
    const publisher = createEventPublisher({
      producer,
      maxBuffered: 1_000_000,
      intervalMs: 60_000,
      keySalt: 's',
      logger: createLogger('silent', 'test'),
      metrics: new Registry(),
    });
    // More than a message's worth: a send starts at once for the full message, and is under way at the tick.
    const n = 9_000;
    for (let i = 0; i < n; i++) publisher.record('production', [answer(i)], { targetingKey: `user-${i}` });
    await new Promise((resolve) => setImmediate(resolve));
    await publisher.flush();
    let events = 0;
    for (const body of accepted) events += (await decodeBatch(body)).events.length;
    expect(events).toBe(n);
    expect(publisher.stats().buffered).toBe(0);
    await publisher.stop();
  });
});
