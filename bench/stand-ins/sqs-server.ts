/**
 * The SQS stand-in of SERVICES.md (`local-aws-sqs`) in a process of its own, as a real queue is outside the
 * evaluation service: the events queue and its dead-letter queue, on a free loopback port. It prints one JSON line
 * ({ endpoint, queueUrl, deadLetterUrl }) when ready and stops on SIGTERM.
 *
 * Benchmark-only paths beside the SQS protocol: `POST /__bench/clear` empties every queue (the HTTP benchmarks
 * produce events that no worker consumes; clearing between runs keeps this process small), `GET /__bench/depth`
 * answers the number of messages held, and `POST /__bench/pause` / `/__bench/resume` hold back ReceiveMessage.
 *
 * Request log: every SQS request is counted by its action (the `X-Amz-Target` of the JSON protocol, or `Action` of
 * the query protocol) with its request and response bytes and what AWS bills for it — one request per started
 * 64 KiB of payload (the request body of a send, the response body of a receive). `GET /__bench/requests` answers
 * the log, `POST /__bench/requests/reset` empties it: what the event-cost benchmark counts, not our own metrics.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestHandler } from 'local-aws-sqs';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import platformNames from '../../shared/contracts/platform-names.json' with { type: 'json' };

interface StandInQueue {
  QueueName: string;
  receive(args: object): Promise<unknown[]>;
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
// While held (SQS_RECEIVE_AS_AWS only), a long poll under way keeps waiting instead of taking messages: a benchmark
// sending many instances' messages one after another has them received as if they had arrived at once.
let holding = false;

interface ActionLog {
  requests: number;
  billed: number;
  requestBytes: number;
  responseBytes: number;
}
let log = new Map<string, ActionLog>();
const chunk = 64 * 1024;

/** Counts one request once its response is complete (a receive's payload is its answer). */
function logged(action: string, request: IncomingMessage, response: ServerResponse): void {
  let requestBytes = 0;
  let responseBytes = 0;
  request.on('data', (part: Buffer) => (requestBytes += part.length));
  const write = response.write.bind(response) as (...args: unknown[]) => boolean;
  const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
  const measure = (part: unknown) => {
    if (typeof part === 'string' || part instanceof Uint8Array) responseBytes += Buffer.byteLength(part);
  };
  response.write = ((part: unknown, ...rest: unknown[]) => (measure(part), write(part, ...rest))) as typeof response.write;
  response.end = ((part?: unknown, ...rest: unknown[]) => (measure(part), end(part, ...rest))) as typeof response.end;
  response.once('finish', () => {
    const entry = log.get(action) ?? { requests: 0, billed: 0, requestBytes: 0, responseBytes: 0 };
    entry.requests += 1;
    entry.billed += Math.max(1, Math.ceil((action.startsWith('Receive') ? responseBytes : requestBytes) / chunk));
    entry.requestBytes += requestBytes;
    entry.responseBytes += responseBytes;
    log.set(action, entry);
  });
}

const actionOf = (request: IncomingMessage): string | undefined => {
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') return target.replace(/^AmazonSQS\./, '');
  const query = new URL(request.url ?? '/', 'http://stand-in').searchParams.get('Action');
  return query ?? undefined;
};

const server = createServer((request, response) => {
  if (request.url === '/__bench/requests') {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(Object.fromEntries(log)));
    return;
  }
  if (request.url === '/__bench/requests/reset') {
    log = new Map();
    response.end('{}');
    return;
  }
  const action = request.url?.startsWith('/__bench/') ? undefined : actionOf(request);
  if (action) logged(action, request, response);
  if (request.url === '/__bench/hold' || request.url === '/__bench/release') {
    holding = request.url === '/__bench/hold';
    response.end('{}');
    return;
  }
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

// local-aws-sqs ends a long poll early only once MaxNumberOfMessages are there (SERVICES.md); AWS answers as soon as
// any message is. With SQS_RECEIVE_AS_AWS=1 a receive does what AWS does — polls the queue without waiting (every
// 20 ms, inside this one request) until a message is there or its WaitTimeSeconds are over — so a consumer can run
// with AWS's 20 s long poll and the benchmark counts the receives it would make on AWS.
if (process.env.SQS_RECEIVE_AS_AWS === '1') {
  type Receive = (this: StandInQueue, args: { WaitTimeSeconds?: number; [name: string]: unknown }) => Promise<unknown[]>;
  const prototype = Object.getPrototypeOf(queues()[0]) as { receive: Receive };
  const receive = prototype.receive;
  prototype.receive = async function (args) {
    const deadline = Date.now() + Number(args.WaitTimeSeconds ?? 0) * 1000;
    for (;;) {
      const messages = holding ? [] : await receive.call(this, { ...args, WaitTimeSeconds: 0 });
      if (messages.length > 0 || Date.now() >= deadline) return messages;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
}

process.stdout.write(`${JSON.stringify({ endpoint, queueUrl: queue.QueueUrl, deadLetterUrl: dlq.QueueUrl })}\n`);
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
