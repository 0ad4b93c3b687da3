import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { startLocalAws, type LocalAws } from '../local-aws.ts';
import { createLogger } from '../logging/logger.ts';
import { createSqsClient, createSqsConsumer, createSqsProducer } from './sqs.ts';

/** The actions a client sent, with the number of entries of each batch request. */
function recorded(sqs: SQSClient) {
  const calls: { action: string; entries: number }[] = [];
  const send = sqs.send.bind(sqs) as (command: unknown) => Promise<unknown>;
  (sqs as unknown as { send: (command: unknown) => Promise<unknown> }).send = (command) => {
    const input = (command as { input: { Entries?: unknown[] } }).input;
    calls.push({ action: (command as object).constructor.name.replace(/Command$/, ''), entries: input.Entries?.length ?? 0 });
    return send(command);
  };
  return calls;
}

describe('SQS consumer on the stand-in', () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws({ visibilityTimeout: 30 });
  });
  afterAll(async () => aws.stop());

  it('deletes processed messages ten to a DeleteMessageBatch across receives, and the rest when it stops', async () => {
    const config = { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_SQS: aws.sqsEndpoint };
    const producer = createSqsProducer(createSqsClient(config), aws.queueUrl);
    const sqs = createSqsClient(config);
    const calls = recorded(sqs);
    const consumer = createSqsConsumer({
      sqs,
      queueUrl: aws.queueUrl,
      deadLetterUrl: aws.deadLetterUrl,
      logger: createLogger('silent', 'test'),
      batchSize: 10,
      waitTimeSeconds: 1,
      deleteWithinMs: 60_000,
    });
    const seen = new Set<string>();
    consumer.start(async (messages) => {
      for (const m of messages) seen.add(m.body);
      return new Set(messages.map((m) => m.id));
    });
    // One message per send: each receive gets what is there, often a single message.
    for (let i = 0; i < 25; i++) await producer.send([`message-${i}`], {});
    const deadline = Date.now() + 20_000;
    while (seen.size < 25 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen.size).toBe(25);
    const receives = calls.filter((c) => c.action === 'ReceiveMessage').length;
    const deletesBefore = calls.filter((c) => c.action.startsWith('DeleteMessage'));
    // Full batches of ten only, while running; never a request per receive.
    expect(deletesBefore.every((d) => d.action === 'DeleteMessageBatch' && d.entries === 10)).toBe(true);
    expect(deletesBefore.length).toBeLessThan(receives);
    await consumer.stop();
    const deletes = calls.filter((c) => c.action === 'DeleteMessageBatch');
    expect(deletes.reduce((n, d) => n + d.entries, 0)).toBe(25);
    expect(deletes).toHaveLength(3);
    // Nothing comes back: every message was deleted.
    const left = await createSqsClient(config).send(
      new ReceiveMessageCommand({ QueueUrl: aws.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 0 }),
    );
    expect(left.Messages ?? []).toHaveLength(0);
  });
});
