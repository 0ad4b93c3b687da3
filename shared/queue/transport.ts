import type { Config } from '../config/config.ts';
import { ConfigError } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';
import type { QueueConsumer, QueueProducer } from './queue.ts';

// Each transport's module (the AWS SDK, or BullMQ) is loaded only when it is the one configured: ~25 MB and ~80 ms
// of start-up each that a process using the other never needs.

type TransportConfig = Pick<
  Config,
  | 'EVENTS_TRANSPORT'
  | 'SQS_QUEUE_URL'
  | 'SQS_DLQ_URL'
  | 'AWS_REGION'
  | 'REDIS_URL'
  | 'REDIS_PASSWORD'
  | 'BULLMQ_QUEUE'
  | 'WORKER_CONCURRENCY'
  | 'WORKER_VISIBILITY_TIMEOUT_SECONDS'
  | 'AWS_ENDPOINT_URL_SQS'
>;

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new ConfigError([`${name}: required by EVENTS_TRANSPORT`]);
  return value;
}

/**
 * A producer made when the first events are sent: the evaluation service then loads the AWS SDK (~4 MB of RSS and
 * ~130 ms of its start, docs/benchmarks.md) after it is ready, not before. A failed load is tried again on the next
 * send, as a failed send is.
 */
export function madeOnFirstSend(make: () => Promise<QueueProducer>): QueueProducer {
  let producer: QueueProducer | undefined;
  let making: Promise<QueueProducer> | undefined;
  return {
    async send(bodies, attributes) {
      making ??= make().then(
        (made) => (producer = made),
        (error: unknown) => {
          making = undefined;
          throw error;
        },
      );
      await (await making).send(bodies, attributes);
    },
    get requests() {
      return producer?.requests ?? 0;
    },
    async close() {
      await producer?.close();
    },
  };
}

/** The evaluation service's side of the events transport chosen by EVENTS_TRANSPORT (undefined when off). */
export async function createEventProducer(config: TransportConfig, logger: Logger): Promise<QueueProducer | undefined> {
  switch (config.EVENTS_TRANSPORT) {
    case 'sqs': {
      const queueUrl = required(config.SQS_QUEUE_URL, 'SQS_QUEUE_URL');
      return madeOnFirstSend(async () => {
        const { createSqsClient, createSqsProducer } = await import('./sqs.ts');
        return createSqsProducer(createSqsClient(config), queueUrl);
      });
    }
    case 'bullmq': {
      const { bullConnection, createBullProducer } = await import('./bullmq.ts');
      return createBullProducer(
        bullConnection(required(config.REDIS_URL, 'REDIS_URL'), config.REDIS_PASSWORD),
        config.BULLMQ_QUEUE,
        logger,
      );
    }
    case 'off':
      return undefined;
  }
}

/** The analytics worker's side of the same transport. */
export async function createEventConsumer(config: TransportConfig, logger: Logger): Promise<QueueConsumer> {
  switch (config.EVENTS_TRANSPORT) {
    case 'sqs': {
      const { createSqsClient, createSqsConsumer } = await import('./sqs.ts');
      return createSqsConsumer({
        sqs: createSqsClient(config),
        queueUrl: required(config.SQS_QUEUE_URL, 'SQS_QUEUE_URL'),
        deadLetterUrl: config.SQS_DLQ_URL,
        logger,
        batchSize: 10,
        visibilityTimeout: config.WORKER_VISIBILITY_TIMEOUT_SECONDS,
        // A local stand-in returns early from a long poll only when the batch is full (SERVICES.md): a short poll every
        // 100 ms there keeps a message's wait what AWS's long poll makes it (none), so counts show within 5 s.
        waitTimeSeconds: config.AWS_ENDPOINT_URL_SQS ? 0 : 20,
        pollingWaitTimeMs: config.AWS_ENDPOINT_URL_SQS ? 100 : 0,
      });
    }
    case 'bullmq': {
      const { bullConnection, createBullConsumer } = await import('./bullmq.ts');
      return createBullConsumer(
        bullConnection(required(config.REDIS_URL, 'REDIS_URL'), config.REDIS_PASSWORD),
        config.BULLMQ_QUEUE,
        config.WORKER_CONCURRENCY,
        logger,
      );
    }
    case 'off':
      throw new ConfigError(['EVENTS_TRANSPORT: the analytics worker needs sqs or bullmq']);
  }
}
