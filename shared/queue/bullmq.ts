import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { QueueConsumer, QueueMessage, QueueProducer } from './queue.ts';
import type { Logger } from '../logging/logger.ts';
import { logConnectionErrors } from '../runtime/connection-errors.ts';

interface JobData {
  body: string;
  attributes: Record<string, string>;
}

/** BullMQ connection settings from a Redis URL (BullMQ needs its own connections, with no key prefix). */
export function bullConnection(url: string, password?: string): ConnectionOptions {
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    ...(password || parsed.password ? { password: password ?? decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/**
 * The same messages through BullMQ for self-hosting outside AWS. Waiting jobs sit in the Redis list
 * `bull:<queue>:wait`, which KEDA's redis scaler watches.
 */
export function createBullProducer(connection: ConnectionOptions, queueName: string, logger: Logger): QueueProducer {
  const queue = new Queue<JobData>(queueName, {
    connection,
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: 1_000, removeOnFail: false },
  });
  logConnectionErrors(queue, logger, `bullmq producer ${queueName}`);
  let requests = 0;
  return {
    async send(bodies, attributes) {
      requests += 1;
      await queue.addBulk(bodies.map((body) => ({ name: 'events', data: { body, attributes } })));
    },
    get requests() {
      return requests;
    },
    async close() {
      await queue.close();
    },
  };
}

export function createBullConsumer(connection: ConnectionOptions, queueName: string, concurrency: number, logger: Logger): QueueConsumer {
  let worker: Worker<JobData> | undefined;
  const deadLetters = new Queue<JobData & { reason: string }>(`${queueName}-dlq`, { connection });
  logConnectionErrors(deadLetters, logger, `bullmq dead-letter queue ${queueName}-dlq`);
  return {
    start(handle) {
      worker = new Worker<JobData>(
        queueName,
        async (job) => {
          const message: QueueMessage = {
            id: job.id ?? '',
            body: job.data.body,
            attributes: job.data.attributes,
            receiveCount: job.attemptsMade + 1,
          };
          const done = await handle([message]);
          // Throwing hands the job back to BullMQ, which retries it with backoff.
          if (!done.has(message.id)) throw new Error('processing failed; BullMQ will retry');
        },
        { connection, concurrency },
      );
      logConnectionErrors(worker, logger, `bullmq worker ${queueName}`);
    },
    async deadLetter(message, reason) {
      await deadLetters.add('dead-letter', { body: message.body, attributes: message.attributes, reason });
    },
    async stop() {
      // close() waits for the jobs in hand to finish and takes no new ones.
      await worker?.close();
      await deadLetters.close();
    },
  };
}
