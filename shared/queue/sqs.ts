import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import type { Logger } from '../logging/logger.ts';
import type { QueueConsumer, QueueMessage, QueueProducer } from './queue.ts';

/** SQS's limits: 10 messages per batch request, 256 KiB for the whole request. */
const maxBatchEntries = 10;
const maxRequestBytes = 256 * 1024;

/** Credentials from the SDK's chain (IRSA on EKS); a local stand-in (an endpoint set) takes any. */
export function createSqsClient(config: { AWS_REGION: string; AWS_ENDPOINT_URL_SQS?: string | undefined }): SQSClient {
  const local = config.AWS_ENDPOINT_URL_SQS;
  return new SQSClient({
    region: config.AWS_REGION,
    maxAttempts: 5,
    ...(local ? { endpoint: local, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
}

const toAttributes = (attributes: Record<string, string>): Record<string, MessageAttributeValue> =>
  Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { DataType: 'String', StringValue: value }]));

export function createSqsProducer(sqs: SQSClient, queueUrl: string): QueueProducer {
  let requests = 0;
  return {
    async send(bodies, attributes) {
      const attributeBytes = Object.entries(attributes).reduce((n, [k, v]) => n + k.length + v.length + 16, 0);
      let entries: { Id: string; MessageBody: string; MessageAttributes: Record<string, MessageAttributeValue> }[] = [];
      let bytes = 0;
      const flush = async () => {
        if (entries.length === 0) return;
        requests += 1;
        const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        if (result.Failed && result.Failed.length > 0)
          throw new Error(
            `SQS refused ${result.Failed.length} message(s): ${result.Failed[0]?.Code ?? ''} ${result.Failed[0]?.Message ?? ''}`,
          );
        entries = [];
        bytes = 0;
      };
      for (const [i, body] of bodies.entries()) {
        const size = Buffer.byteLength(body) + attributeBytes;
        if (entries.length === maxBatchEntries || (entries.length > 0 && bytes + size > maxRequestBytes)) await flush();
        entries.push({ Id: String(i), MessageBody: body, MessageAttributes: toAttributes(attributes) });
        bytes += size;
      }
      await flush();
    },
    get requests() {
      return requests;
    },
    async close() {},
  };
}

export interface SqsConsumerOptions {
  sqs: SQSClient;
  queueUrl: string;
  deadLetterUrl: string | undefined;
  logger: Logger;
  /** Messages per receive (at most 10). */
  batchSize: number;
  /** Seconds a received message stays invisible while it is processed (a heartbeat extends it). */
  visibilityTimeout?: number;
  /** Long-poll seconds (20 on AWS; 0 against the local stand-in, whose long poll ends late: SERVICES.md). */
  waitTimeSeconds?: number;
  /** Pause between receives that found nothing (for short polling a local stand-in; 0 on AWS's long poll). */
  pollingWaitTimeMs?: number;
  /**
   * How long a processed message may wait for its delete (default a third of the visibility timeout, at most 20 s):
   * deletes go ten to a DeleteMessageBatch across receives, not one request per receive (SQS bills per request).
   * 0 deletes after every receive.
   */
  deleteWithinMs?: number;
  /** The clock that ages waiting deletes (a benchmark replaying time faster passes its own; default Date.now). */
  now?: () => number;
}

export function createSqsConsumer(options: SqsConsumerOptions): QueueConsumer {
  let consumer: Consumer | undefined;
  let inFlight: Promise<unknown> = Promise.resolve();
  let stopping = false;
  const now = options.now ?? Date.now;
  const visibilityTimeout = options.visibilityTimeout ?? 60;
  const deleteWithinMs = options.deleteWithinMs ?? Math.min(20_000, Math.floor((visibilityTimeout * 1000) / 3));
  // Processed messages whose delete waits for nine more (or for deleteWithinMs), oldest first.
  const toDelete: { handle: string; since: number }[] = [];
  let deleting: Promise<void> = Promise.resolve();
  let ager: NodeJS.Timeout | undefined;

  /** Deletes what waits, ten per request; `all` also sends a last request of fewer than ten. */
  function deleteWaiting(all: boolean): Promise<void> {
    const due = all || (toDelete.length > 0 && now() - toDelete[0]!.since >= deleteWithinMs);
    const batches: string[][] = [];
    while (toDelete.length >= maxBatchEntries || (due && toDelete.length > 0))
      batches.push(toDelete.splice(0, maxBatchEntries).map((m) => m.handle));
    if (batches.length === 0) return deleting;
    deleting = deleting.then(async () => {
      for (const handles of batches) {
        try {
          const result = await options.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: handles.map((handle, i) => ({ Id: String(i), ReceiptHandle: handle })),
            }),
          );
          // A message not deleted comes back after its visibility timeout and is written again: idempotent.
          if (result.Failed && result.Failed.length > 0)
            options.logger.warn({ failed: result.Failed }, 'SQS did not delete some processed messages; they will be redelivered');
        } catch (error) {
          options.logger.warn({ err: error, messages: handles.length }, 'SQS delete failed; the messages will be redelivered');
        }
      }
    });
    return deleting;
  }

  return {
    start(handle) {
      if (deleteWithinMs > 0) {
        ager = setInterval(() => void deleteWaiting(false), Math.max(100, Math.floor(deleteWithinMs / 4)));
        ager.unref();
      }
      consumer = Consumer.create({
        queueUrl: options.queueUrl,
        sqs: options.sqs,
        batchSize: Math.min(options.batchSize, 10),
        visibilityTimeout,
        heartbeatInterval: Math.max(1, Math.floor(visibilityTimeout / 3)),
        waitTimeSeconds: options.waitTimeSeconds ?? 20,
        pollingWaitTimeMs: options.pollingWaitTimeMs ?? 0,
        messageSystemAttributeNames: ['ApproximateReceiveCount'],
        messageAttributeNames: ['All'],
        // Deletes are ours (deleteWaiting), batched across receives.
        shouldDeleteMessages: false,
        handleMessageBatch: async (messages) => {
          if (stopping) {
            // Received by a poll that was under way when we were told to stop: hand them straight back.
            await options.sqs
              .send(
                new ChangeMessageVisibilityBatchCommand({
                  QueueUrl: options.queueUrl,
                  Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '', VisibilityTimeout: 0 })),
                }),
              )
              .catch(() => undefined);
            return [];
          }
          const batch: QueueMessage[] = messages.map((m) => ({
            id: m.MessageId ?? '',
            body: m.Body ?? '',
            attributes: Object.fromEntries(
              Object.entries(m.MessageAttributes ?? {}).flatMap(([k, v]) => (v.StringValue === undefined ? [] : [[k, v.StringValue]])),
            ),
            receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? '1'),
          }));
          const work = handle(batch);
          inFlight = work;
          const done = await work;
          // Only the messages processed are deleted; the others become visible again and are retried.
          const processed = messages.filter((m) => done.has(m.MessageId ?? ''));
          for (const m of processed) toDelete.push({ handle: m.ReceiptHandle ?? '', since: now() });
          await deleteWaiting(deleteWithinMs === 0);
          return processed;
        },
      });
      consumer.on('error', (error) => options.logger.warn({ err: error }, 'SQS receive failed'));
      consumer.on('processing_error', (error) => options.logger.error({ err: error }, 'SQS batch failed'));
      consumer.start();
    },
    async deadLetter(message, reason) {
      if (!options.deadLetterUrl) throw new Error('SQS_DLQ_URL is not set: a poison message cannot be moved aside');
      await options.sqs.send(
        new SendMessageCommand({
          QueueUrl: options.deadLetterUrl,
          MessageBody: message.body,
          MessageAttributes: toAttributes({
            ...message.attributes,
            'dead-letter-reason': reason.slice(0, 256),
            'original-message-id': message.id,
          }),
        }),
      );
    },
    async stop() {
      if (!consumer) return;
      stopping = true;
      const stopped = new Promise<void>((resolve) => consumer!.once('stopped', () => resolve()));
      consumer.stop();
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 25_000))]);
      await inFlight.catch(() => undefined);
      clearInterval(ager);
      await deleteWaiting(true);
    },
  };
}
