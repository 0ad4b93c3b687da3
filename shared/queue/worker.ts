import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../logging/logger.ts';
import { PoisonMessageError, type QueueConsumer, type QueueMessage } from './queue.ts';

const tracer = trace.getTracer('togglemaster-worker');

/**
 * The one wrapper every queue processor runs in: a span continued from the producer's trace context, metrics and
 * logs per message, poison messages moved to the dead-letter queue (the worker carries on), and any other failure
 * left to the queue to redeliver (only the failed messages: the rest of the batch is acknowledged).
 */
export function runQueueWorker(options: {
  name: string;
  consumer: QueueConsumer;
  process: (message: QueueMessage) => Promise<void>;
  logger: Logger;
  metrics: Registry;
}): { stop(): Promise<void> } {
  const { name, consumer, logger } = options;
  const outcomes = new Counter({
    name: 'worker_messages_total',
    help: 'Messages handled by outcome',
    labelNames: ['worker', 'outcome'] as const,
    registers: [options.metrics],
  });
  const duration = new Histogram({
    name: 'worker_message_duration_seconds',
    help: 'Time to process one message',
    labelNames: ['worker'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [options.metrics],
  });

  async function handleOne(message: QueueMessage): Promise<boolean> {
    const parent = propagation.extract(context.active(), message.attributes);
    return tracer.startActiveSpan(
      `process ${name}`,
      { attributes: { 'messaging.message.id': message.id, 'messaging.delivery_count': message.receiveCount } },
      parent,
      async (span) => {
        const stopTimer = duration.startTimer({ worker: name });
        try {
          await options.process(message);
          outcomes.inc({ worker: name, outcome: 'processed' });
          return true;
        } catch (error) {
          if (error instanceof PoisonMessageError) {
            try {
              await consumer.deadLetter(message, error.message);
              outcomes.inc({ worker: name, outcome: 'dead-lettered' });
              logger.warn({ messageId: message.id, reason: error.message }, 'poison message moved to the dead-letter queue');
              return true;
            } catch (dlqError) {
              logger.error({ messageId: message.id, err: dlqError }, 'could not dead-letter a poison message');
            }
          }
          outcomes.inc({ worker: name, outcome: 'failed' });
          span.recordException(error instanceof Error ? error : new Error(String(error)));
          span.setStatus({ code: SpanStatusCode.ERROR });
          logger.warn({ messageId: message.id, deliveries: message.receiveCount, err: error }, 'message failed; it will be redelivered');
          return false;
        } finally {
          stopTimer();
          span.end();
        }
      },
    );
  }

  consumer.start(async (messages) => {
    const results = await Promise.all(messages.map(async (m) => [m.id, await handleOne(m)] as const));
    return new Set(results.filter(([, ok]) => ok).map(([id]) => id));
  });
  return { stop: () => consumer.stop() };
}
