import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import platformNames from './contracts/platform-names.json' with { type: 'json' };

export interface LocalAws {
  sqsEndpoint: string;
  dynamoEndpoint: string;
  queueUrl: string;
  deadLetterUrl: string;
  stop(): Promise<void>;
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

/**
 * The AWS stand-ins of SERVICES.md, in this process, on loopback: `local-aws-sqs` (speaks the SQS JSON protocol of
 * the current SDK) with the events queue and its dead-letter queue, and `dynalite` (DynamoDB on LevelDB, in
 * memory or in `dataDir`). The production adapters talk to them unchanged.
 */
export async function startLocalAws(
  options: { dataDir?: string; maxReceiveCount?: number; visibilityTimeout?: number } = {},
): Promise<LocalAws> {
  const [{ createSqsServer }, { default: dynalite }] = await Promise.all([import('local-aws-sqs'), import('dynalite')]);
  const { evaluationEvents, evaluationEventsDeadLetter } = platformNames.queues;
  const accountId = '000000000000';
  const sqs = await createSqsServer({ port: 0, hostname: '127.0.0.1', accountId, emulateQueueCreationLifecycle: false, queues: [] });
  const sqsEndpoint = `http://127.0.0.1:${portOf(sqs)}`;
  const { SQSClient, CreateQueueCommand } = await import('@aws-sdk/client-sqs');
  const client = new SQSClient({
    region: platformNames.awsRegion,
    endpoint: sqsEndpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const dlq = await client.send(new CreateQueueCommand({ QueueName: evaluationEventsDeadLetter }));
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: evaluationEvents,
      Attributes: {
        VisibilityTimeout: String(options.visibilityTimeout ?? 60),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:${platformNames.awsRegion}:${accountId}:${evaluationEventsDeadLetter}`,
          maxReceiveCount: options.maxReceiveCount ?? 5,
        }),
      },
    }),
  );
  client.destroy();

  // createTableMs 0: with dynalite's default, a write right after CreateTable fails.
  const dynamo = dynalite({ createTableMs: 0, ...(options.dataDir ? { path: join(options.dataDir, 'dynalite') } : {}) });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', resolve));

  return {
    sqsEndpoint,
    dynamoEndpoint: `http://127.0.0.1:${portOf(dynamo)}`,
    queueUrl: queue.QueueUrl ?? '',
    deadLetterUrl: dlq.QueueUrl ?? '',
    async stop() {
      await Promise.all([new Promise((r) => sqs.close(r)), new Promise((r) => dynamo.close(r))]);
    },
  };
}
