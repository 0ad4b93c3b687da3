/**
 * Event path cost benchmark (issue 19, part `eventcost`): what the evaluation events cost on AWS per million
 * evaluations — SQS requests by action and DynamoDB write and read units — counted from the stand-ins' own request
 * logs (bench/stand-ins/: the SQS stand-in logs every request by action, a proxy in front of dynalite every unit),
 * not from our metrics, and turned into dollars at AWS's list prices.
 *
 *   npm run bench -- eventcost        (or: node bench/event-cost.bench.ts)
 *
 * Lines: 100, 1,000 and 10,000 evaluations/s per instance × 1 and 20 instances × 10 and 10,000 distinct users per
 * flag (10 flags, single-flag evaluations, two variants). Twenty HTTP instances at 10,000/s do not fit on two
 * cores, so the REAL producer code runs in-process — one `createEventPublisher` per instance with its own SQS
 * client against the stand-in — fed synthetic evaluations on a simulated clock: the events' `at` and the flush
 * ticks come from one clock that the benchmark advances (100 ms steps), so a simulated hour takes what the machine
 * needs, and nothing depends on how fast it is. The REAL worker code consumes: `createSqsConsumer` (sqs-consumer,
 * long poll 20 s as on AWS: the stand-in is started answering a long poll as soon as a message is there, as AWS
 * does), `runQueueWorker`, `createEventIngest` and the DynamoDB store into dynalite; compaction is run each
 * simulated minute, as the worker's job does each minute. After each flush tick the benchmark waits until the
 * worker has written the messages sent — a worker keeping up, as KEDA sizes them — so a receive gets what it would
 * get on AWS from a worker idle between messages. At the end the counts must be exact for every flag.
 *
 * Prices (us-east-1, list; docs/benchmarks.md cites the pages): SQS standard $0.40 per million requests, each
 * 64 KiB of a request's payload billed as one request; DynamoDB on-demand $0.625 per million write request units,
 * $0.125 per million read request units.
 */
import { Registry } from 'prom-client';
import { randomUUID } from 'node:crypto';
import { createDynamoClient } from '../shared/dynamo/client.ts';
import { ensureAnalyticsTable } from '../shared/dynamo/analytics-table.ts';
import type { EvaluationResult } from '../shared/contracts/evaluation-model.ts';
import { createEventPublisher } from '../shared/events/event-publisher.ts';
import { createLogger } from '../shared/logging/logger.ts';
import { createSqsClient, createSqsConsumer, createSqsProducer } from '../shared/queue/sqs.ts';
import { runQueueWorker } from '../shared/queue/worker.ts';
import type { QueueProducer } from '../shared/queue/queue.ts';
import { createDynamoAnalyticsStore } from '../handlers/analytics/analytics-store.dynamo.ts';
import { createEventIngest } from '../handlers/analytics/event-ingest.ts';
import platformNames from '../shared/contracts/platform-names.json' with { type: 'json' };
import { installSignalHandlers, sleep, stopEverything } from './lib/processes.ts';
import { loadLine, machineLine, type Figure, printFigures } from './lib/report.ts';
import { startDynamoStandIn, startSqsStandIn, type DynamoStandIn } from './lib/stand-ins.ts';

/** US East (N. Virginia) list prices, dollars per million. */
export const prices = { sqsRequest: 0.4, dynamoWriteUnit: 0.625, dynamoReadUnit: 0.125 };
const secondsPerMonth = 30 * 86_400;
const flags = 10;
const environment = 'production';
const stepMs = 100;

export interface CostLine {
  ratePerInstance: number;
  instances: number;
  usersPerFlag: number;
  flushIntervalMs: number;
  evaluations: number;
  simulatedSeconds: number;
  /** Per million evaluations. */
  sqs: { send: number; receive: number; delete: number; changeVisibility: number; all: number; billed: number; sendBilled: number };
  dynamo: { writeUnits: number; readUnits: number; indexWriteUnits: number };
  dollarsPerMillion: number;
  dollarsPerMonth: number;
  /** Messages per receive that had any (1 = a receive per message). */
  messagesPerReceive: number;
  /**
   * The longest an evaluation waits to be counted: the flush interval (simulated) plus, in real time, the slowest
   * instance's send of a tick and the slowest message's processing (the receive is immediate with AWS's long poll).
   */
  maxLagSeconds: number;
  exact: boolean;
}

export interface EventCostResult {
  lines: CostLine[];
  figures: Figure[];
}

function answersOf(flag: number): EvaluationResult[] {
  return ['on', 'off'].map((variant): EvaluationResult =>
    Object.freeze({ flagKey: `flag-${flag}`, value: variant === 'on', variant, reason: 'TARGETING_MATCH', ruleId: 'rollout' }),
  );
}

/** The same users every time: a user's variant is fixed, as a rollout's is. */
function variantOf(user: number): number {
  return ((user * 2654435761) >>> 0) % 2;
}

async function runLine(
  dynamo: DynamoStandIn,
  line: {
    ratePerInstance: number;
    instances: number;
    usersPerFlag: number;
    simulatedSeconds: number;
    flushIntervalMs: number;
    deleteWithinMs: number | undefined;
  },
): Promise<CostLine> {
  // A queue of its own per line: a long poll of the line before (20 s, as on AWS) cannot take this line's messages.
  const sqsStandIn = await startSqsStandIn(`eventcost-sqs-${line.ratePerInstance}x${line.instances}x${line.usersPerFlag}`, 60, true);
  // Errors only: the stopped worker's last long poll fails when its queue stops, by design of this benchmark.
  const logger = createLogger('error', 'eventcost');
  const table = `cost_${randomUUID().slice(0, 8)}`;
  const awsConfig = {
    AWS_REGION: platformNames.awsRegion,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: sqsStandIn.endpoint,
  };
  const client = createDynamoClient(awsConfig);
  await ensureAnalyticsTable(client, table);
  const start = Date.UTC(2026, 10, 24, 12, 0, 0);
  let simNow = start;
  const now = () => simNow;
  const store = createDynamoAnalyticsStore(client, table, { now });

  // The worker: as handlers/analytics/analytics-worker.ts runs it, on the simulated clock.
  const workerMetrics = new Registry();
  const sqs = createSqsClient(awsConfig);
  const ingest = createEventIngest({ store, retentionMs: 30 * 86_400_000, metrics: workerMetrics, now });
  let processed = 0;
  // The delay to counts, in real time, as separate machines would have it: the slowest instance's own send (each
  // measured alone, as on its own pod) and the slowest message's processing by the worker (decode and write).
  let maxSendMs = 0;
  let maxIngestMs = 0;
  const worker = runQueueWorker({
    name: 'analytics-ingest',
    consumer: createSqsConsumer({
      sqs,
      queueUrl: sqsStandIn.queueUrl,
      deadLetterUrl: sqsStandIn.deadLetterUrl,
      logger,
      batchSize: 10,
      visibilityTimeout: 60,
      waitTimeSeconds: 20,
      ...(line.deleteWithinMs === undefined ? {} : { deleteWithinMs: line.deleteWithinMs }),
      now,
    }),
    logger,
    metrics: workerMetrics,
    process: async (message) => {
      const began = performance.now();
      await ingest(message);
      maxIngestMs = Math.max(maxIngestMs, performance.now() - began);
      processed += 1;
    },
  });

  // The instances: the evaluation service's publisher, each with its own SQS client.
  let sentMessages = 0;
  const publishers = Array.from({ length: line.instances }, () => {
    const inner = createSqsProducer(createSqsClient(awsConfig), sqsStandIn.queueUrl);
    const producer: QueueProducer = {
      async send(bodies, attributes) {
        await inner.send(bodies, attributes);
        sentMessages += bodies.length;
      },
      get requests() {
        return inner.requests;
      },
      close: () => inner.close(),
    };
    return createEventPublisher({
      producer,
      maxBuffered: 100_000,
      intervalMs: line.flushIntervalMs,
      keySalt: 'bench',
      logger,
      metrics: new Registry(),
      now,
    });
  });
  const answers = Array.from({ length: flags }, (_, f) => answersOf(f));
  const expected = new Map<string, number>();
  await sqsStandIn.resetRequests();
  await dynamo.resetUnits();

  const perStep = (line.ratePerInstance * stepMs) / 1000;
  let evaluations = 0;
  let user = 0;
  let nextCompaction = start + 60_000;
  for (let t = 0; t < line.simulatedSeconds * 1000; t += stepMs) {
    for (let step = 0; step < perStep; step++) {
      simNow = start + t + Math.floor((step * stepMs) / perStep);
      for (const publisher of publishers) {
        user = (user + 7919) % line.usersPerFlag;
        const flag = evaluations % flags;
        const answer = answers[flag]![variantOf(user)]!;
        publisher.record(environment, [answer], { targetingKey: `user-${user}` });
        expected.set(answer.flagKey, (expected.get(answer.flagKey) ?? 0) + 1);
        evaluations += 1;
      }
    }
    simNow = start + t + stepMs;
    // A message's worth waiting is sent at once (setImmediate), as in the service.
    await new Promise((resolve) => setImmediate(resolve));
    if (simNow % line.flushIntervalMs === 0) {
      // The instances tick together (aligned ticks): their messages are received as if they arrived at once.
      await sqsStandIn.hold();
      for (const publisher of publishers) {
        const began = performance.now();
        await publisher.flush();
        maxSendMs = Math.max(maxSendMs, performance.now() - began);
      }
      await sqsStandIn.release();
      while (processed < sentMessages) await sleep(5);
    }
    if (simNow >= nextCompaction) {
      await store.compact(simNow);
      nextCompaction += 60_000;
    }
  }
  for (const publisher of publishers) await publisher.flush();
  while (processed < sentMessages) await sleep(5);
  // Every minute compacted once, as the worker's job would; deletes still waiting are due.
  simNow += 3 * 60_000;
  await store.compact(simNow);
  await sleep(1_500);
  const requests = await sqsStandIn.requests();
  const units = await dynamo.units();
  await worker.stop();

  const rows = await store.countRows({ environment, from: start - 60_000, to: simNow });
  const counted = new Map<string, number>();
  for (const row of rows) counted.set(row.flagKey, (counted.get(row.flagKey) ?? 0) + row.count);
  const exact = [...expected].every(([flag, n]) => counted.get(flag) === n) && counted.size === expected.size;
  if (!exact) console.log(`  NOT EXACT: expected ${JSON.stringify([...expected])}, counted ${JSON.stringify([...counted])}`);
  client.destroy();
  sqs.destroy();
  await sqsStandIn.child.stop();

  const perMillion = (n: number) => (n * 1_000_000) / evaluations;
  const action = (...names: string[]) => names.reduce((n, name) => n + (requests[name]?.requests ?? 0), 0);
  const billed = Object.values(requests).reduce((n, a) => n + a.billed, 0);
  const sendBilled = (requests.SendMessageBatch?.billed ?? 0) + (requests.SendMessage?.billed ?? 0);
  const writeUnits = Object.values(units).reduce((n, u) => n + u.writeUnits, 0);
  const readUnits = Object.values(units).reduce((n, u) => n + u.readUnits, 0);
  const indexWriteUnits = Object.values(units).reduce((n, u) => n + u.indexWriteUnits, 0);
  const receives = action('ReceiveMessage');
  const dollarsPerMillion =
    (perMillion(billed) * prices.sqsRequest +
      perMillion(writeUnits) * prices.dynamoWriteUnit +
      perMillion(readUnits) * prices.dynamoReadUnit) /
    1_000_000;
  const perSecond = line.ratePerInstance * line.instances;
  return {
    ...line,
    evaluations,
    sqs: {
      send: perMillion(action('SendMessageBatch', 'SendMessage')),
      receive: perMillion(receives),
      delete: perMillion(action('DeleteMessageBatch', 'DeleteMessage')),
      changeVisibility: perMillion(action('ChangeMessageVisibilityBatch', 'ChangeMessageVisibility')),
      all: perMillion(Object.values(requests).reduce((n, a) => n + a.requests, 0)),
      billed: perMillion(billed),
      sendBilled: perMillion(sendBilled),
    },
    dynamo: { writeUnits: perMillion(writeUnits), readUnits: perMillion(readUnits), indexWriteUnits: perMillion(indexWriteUnits) },
    dollarsPerMillion,
    dollarsPerMonth: (dollarsPerMillion * perSecond * secondsPerMonth) / 1_000_000,
    messagesPerReceive: receives > 0 ? sentMessages / receives : 0,
    maxLagSeconds: (line.flushIntervalMs + maxSendMs + maxIngestMs) / 1000,
    exact,
  };
}

const round = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

export function costTable(lines: CostLine[]): string {
  const header =
    '| evals/s × instances | users/flag | flush | SQS send | receive | delete | all | billed (64 KiB) | DynamoDB WCU | of which index | RCU | $ / million | $ / month | exact |';
  const rows = lines.map(
    (l) =>
      `| ${l.ratePerInstance.toLocaleString('en-US')} × ${l.instances} | ${l.usersPerFlag.toLocaleString('en-US')} | ${l.flushIntervalMs / 1000} s | ${round(l.sqs.send)} | ${round(l.sqs.receive)} | ${round(l.sqs.delete)} | ${round(l.sqs.all)} | ${round(l.sqs.billed)} | ${round(l.dynamo.writeUnits)} | ${round(l.dynamo.indexWriteUnits)} | ${round(l.dynamo.readUnits)} | ${l.dollarsPerMillion.toFixed(5)} | ${l.dollarsPerMonth.toLocaleString('en-US', { maximumFractionDigits: 0 })} | ${l.exact ? 'yes' : 'NO'} |`,
  );
  return [
    header,
    `|${header
      .split('|')
      .slice(1, -1)
      .map(() => ' --- ')
      .join('|')}|`,
    ...rows,
  ].join('\n');
}

/** The figures with their targets: the 1,000/s-per-instance lines carry the targets. */
export function costFigures(lines: CostLine[]): Figure[] {
  const figures: Figure[] = [];
  for (const l of lines) {
    const name = `events ${l.ratePerInstance.toLocaleString('en-US')}/s × ${l.instances}, ${l.usersPerFlag.toLocaleString('en-US')} users/flag`;
    const targeted = l.ratePerInstance === 1_000;
    figures.push({
      name: `${name}: SQS send requests /M`,
      value: round(l.sqs.send),
      ...(targeted ? { target: '≤ 300', met: l.sqs.send <= 300 } : {}),
    });
    figures.push({
      name: `${name}: SQS requests, all actions /M`,
      value: round(l.sqs.all),
      ...(targeted ? { target: '≤ 300', met: l.sqs.all <= 300 } : {}),
    });
    figures.push({ name: `${name}: SQS billed requests (64 KiB) /M`, value: round(l.sqs.billed) });
    figures.push({
      name: `${name}: DynamoDB write units /M`,
      value: round(l.dynamo.writeUnits),
      ...(targeted ? { target: '≤ 300', met: l.dynamo.writeUnits <= 300 } : {}),
    });
    figures.push({ name: `${name}: DynamoDB read units /M`, value: round(l.dynamo.readUnits) });
    figures.push({ name: `${name}: $ per million`, value: `$${l.dollarsPerMillion.toFixed(5)}` });
    figures.push({
      name: `${name}: delay to counts (max)`,
      value: `${l.maxLagSeconds.toFixed(2)} s`,
      target: '≤ 5 s',
      met: l.maxLagSeconds <= 5,
    });
    figures.push({ name: `${name}: counts exact`, value: l.exact ? 'yes' : 'NO', target: 'exact', met: l.exact });
  }
  return figures;
}

/**
 * `BENCH_EVENTCOST_FLUSH_MS` (default 4,000, the config's default), `BENCH_EVENTCOST_MAX_EVENTS` per line,
 * `BENCH_EVENTCOST_DELETE_WITHIN_MS` (0: a delete per receive, as before issue 19), `BENCH_EVENTCOST_LINES` (a subset).
 */
export async function runEventCost(): Promise<EventCostResult> {
  console.log(machineLine());
  console.log(loadLine());
  const flushIntervalMs = Number(process.env.BENCH_EVENTCOST_FLUSH_MS ?? 4_000);
  const maxEvents = Number(process.env.BENCH_EVENTCOST_MAX_EVENTS ?? 3_000_000);
  const deleteWithin = process.env.BENCH_EVENTCOST_DELETE_WITHIN_MS;
  const deleteWithinMs = deleteWithin === undefined ? undefined : Number(deleteWithin);
  const dynamo = await startDynamoStandIn('eventcost-dynamodb');
  // BENCH_EVENTCOST_LINES=1000x1x10,1000x20x10000 runs only those lines (rate × instances × users per flag).
  const only = process.env.BENCH_EVENTCOST_LINES?.split(',').map((l) => l.trim());
  const lines: CostLine[] = [];
  for (const instances of [1, 20])
    for (const ratePerInstance of [100, 1_000, 10_000])
      for (const usersPerFlag of [10, 10_000]) {
        if (only && !only.includes(`${ratePerInstance}x${instances}x${usersPerFlag}`)) continue;
        // Two simulated minutes, less when that would be more than maxEvents (never under three flushes).
        const simulatedSeconds = Math.max(
          Math.ceil((3 * flushIntervalMs) / 1000),
          Math.min(120, Math.floor(maxEvents / (ratePerInstance * instances))),
        );
        const line = await runLine(dynamo, {
          ratePerInstance,
          instances,
          usersPerFlag,
          simulatedSeconds,
          flushIntervalMs,
          deleteWithinMs,
        });
        console.log(
          `${ratePerInstance}/s × ${instances}, ${usersPerFlag} users/flag: ${line.evaluations} evaluations in ${simulatedSeconds} s simulated, ` +
            `SQS ${round(line.sqs.all)}/M (send ${round(line.sqs.send)}), DynamoDB ${round(line.dynamo.writeUnits)} WCU/M, exact ${line.exact} — ${loadLine()}`,
        );
        lines.push(line);
        // The counts must be exact at the end of every line: a cheaper layout that loses a count is no result.
        if (!line.exact) throw new Error(`counts not exact after the line ${ratePerInstance}/s × ${instances}, ${usersPerFlag} users/flag`);
      }
  console.log(costTable(lines));
  const figures = costFigures(lines);
  printFigures(figures);
  return { lines, figures };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  installSignalHandlers();
  try {
    await runEventCost();
  } finally {
    await stopEverything();
  }
}
