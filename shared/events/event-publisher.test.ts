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
  });
});
