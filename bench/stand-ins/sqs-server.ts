/**
 * The SQS stand-in of SERVICES.md (`local-aws-sqs`) in a process of its own, as a real queue is outside the
 * evaluation service: the events queue and its dead-letter queue, on a free loopback port. It prints one JSON line
 * ({ endpoint, queueUrl, deadLetterUrl }) when ready and stops on SIGTERM.
 *
 * Benchmark-only paths beside the SQS protocol: `POST /__bench/clear` empties every queue (the HTTP benchmarks
 * produce events that no worker consumes; clearing between runs keeps this process small), `GET /__bench/depth`
 * answers the number of messages held, and `POST /__bench/pause` / `/__bench/resume` hold back ReceiveMessage.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestHandler } from 'local-aws-sqs';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import platformNames from '../../shared/contracts/platform-names.json' with { type: 'json' };

interface StandInQueue {
  QueueName: string;
  clearRecords(): void;
  getAttributes(names: string[]): Record<string, string> | undefined;
}

const accountId = '000000000000';
const { service, requestHandler } = createRequestHandler({
  port: 0,
  hostname: '127.0.0.1',
  accountId,
  emulateQueueCreationLifecycle: false,
  queues: [],
});
const queues = () => (service as unknown as { Queues: StandInQueue[] }).Queues;

// While paused, ReceiveMessage answers no messages (after a short wait, as an empty long poll would): consumers are
// started and warm, the queue fills, and the drain is timed from the moment of `resume`.
let paused = false;

const server = createServer((request, response) => {
  if (request.url === '/__bench/pause' || request.url === '/__bench/resume') {
    paused = request.url === '/__bench/pause';
    response.end('{}');
    return;
  }
  if (paused && request.headers['x-amz-target'] === 'AmazonSQS.ReceiveMessage') {
    request.resume();
    setTimeout(() => {
      response.setHeader('content-type', 'application/x-amz-json-1.0');
      response.end('{}');
    }, 200);
    return;
  }
  if (request.url === '/__bench/clear' && request.method === 'POST') {
    for (const queue of queues()) queue.clearRecords();
    response.end('{}');
    return;
  }
  if (request.url === '/__bench/depth') {
    const depth = Object.fromEntries(
      queues().map((q) => [q.QueueName, Number(q.getAttributes(['ApproximateNumberOfMessages'])?.ApproximateNumberOfMessages ?? 0)]),
    );
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(depth));
    return;
  }
  void requestHandler(request, response);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
(service as unknown as { PORT: number }).PORT = port;
const endpoint = `http://127.0.0.1:${port}`;

const visibilityTimeout = Number(process.env.SQS_VISIBILITY_TIMEOUT ?? '60');
const client = new SQSClient({
  region: platformNames.awsRegion,
  endpoint,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
const { evaluationEvents, evaluationEventsDeadLetter } = platformNames.queues;
const dlq = await client.send(new CreateQueueCommand({ QueueName: evaluationEventsDeadLetter }));
const queue = await client.send(
  new CreateQueueCommand({
    QueueName: evaluationEvents,
    Attributes: {
      VisibilityTimeout: String(visibilityTimeout),
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: `arn:aws:sqs:${platformNames.awsRegion}:${accountId}:${evaluationEventsDeadLetter}`,
        maxReceiveCount: 5,
      }),
    },
  }),
);
client.destroy();

process.stdout.write(`${JSON.stringify({ endpoint, queueUrl: queue.QueueUrl, deadLetterUrl: dlq.QueueUrl })}\n`);
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
