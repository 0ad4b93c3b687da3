import { decodeBatch, type EventBatch } from '../../shared/events/evaluation-event.ts';
import type { QueueProducer } from '../../shared/queue/queue.ts';

/** The events queue in memory: the messages it accepted, decoded as the worker decodes them; it can be made to refuse. */
export function memoryQueue() {
  const messages: (EventBatch & { metrics: NonNullable<EventBatch['metrics']> })[] = [];
  const queue = { down: false, messages };
  const producer: QueueProducer = {
    requests: 0,
    async send(bodies) {
      if (queue.down) throw new Error('queue unreachable');
      for (const body of bodies) {
        const batch = await decodeBatch(body);
        messages.push({ ...batch, metrics: batch.metrics ?? [] });
      }
    },
    async close() {},
  };
  return { queue, producer };
}
