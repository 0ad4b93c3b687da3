import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createSqsServer } from 'local-aws-sqs';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { createDynamoClient } from '../../shared/dynamo/client.ts';
import { ensureAnalyticsTable } from '../../shared/dynamo/analytics-table.ts';
import { encodeBatch, type EvaluationEvent, type EventBatch, type OutgoingBatch } from '../../shared/events/evaluation-event.ts';
import { createEventPublisher } from '../../shared/events/event-publisher.ts';
import { aggregateMetrics } from '../../shared/events/metric-event.ts';
import { createIngestSender } from '../../shared/events/ingest-sender.ts';
import { startLocalAws, type LocalAws } from '../../shared/local-aws.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { bullConnection, createBullConsumer, createBullProducer } from '../../shared/queue/bullmq.ts';
import { createSqsClient, createSqsProducer } from '../../shared/queue/sqs.ts';
import type { StartedService } from '../../shared/runtime/service.ts';
import { testConfig } from '../../shared/testing/config.ts';
import type { Config } from '../../shared/config/config.ts';
import { Registry } from 'prom-client';
import { DeleteItemCommand, GetItemCommand, PutItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { createAnalyticsStore } from './analytics-app.ts';
import { createDynamoAnalyticsStore } from './analytics-store.dynamo.ts';
import type { AnalyticsStore } from './analytics-store.ts';
import { startAnalyticsWorker } from './analytics-worker.ts';
import { logPartition, logShardOf } from './counter-keys.ts';

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'pipeline-test');
const retention = 30 * 86_400_000;

async function waitFor<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value ${JSON.stringify(value).slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('evaluation events pipeline on the SQS and DynamoDB stand-ins', () => {
  let aws: LocalAws;
  let config: Config;
  let store: AnalyticsStore;
  const workers: StartedService[] = [];

  beforeAll(async () => {
    // A dying worker may take a message several times before it is stopped (each a receive): the redrive to the
    // dead-letter queue must not happen before the healthy worker gets it. Poison messages go there explicitly.
    aws = await startLocalAws({ visibilityTimeout: 2, maxReceiveCount: 100 });
    config = {
      ...testConfig(),
      HOST: '127.0.0.1',
      EVENTS_TRANSPORT: 'sqs',
      SQS_QUEUE_URL: aws.queueUrl,
      SQS_DLQ_URL: aws.deadLetterUrl,
      AWS_ENDPOINT_URL_SQS: aws.sqsEndpoint,
      AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint,
      DYNAMODB_TABLE: `analytics-${randomBytes(3).toString('hex')}`,
      // A message a stopped or dead worker held comes back after 2 s, not a minute.
      WORKER_VISIBILITY_TIMEOUT_SECONDS: 2,
    };
    const dynamo = createDynamoClient(config);
    await ensureAnalyticsTable(dynamo, config.DYNAMODB_TABLE);
    store = createAnalyticsStore({ client: dynamo, table: config.DYNAMODB_TABLE });
  });
  afterAll(async () => {
    for (const worker of workers) await worker.stop();
    await aws.stop();
  });

  const startWorker = async (overrides: { store?: AnalyticsStore; config?: Partial<Config> } = {}) => {
    const worker = await startAnalyticsWorker({
      config: { ...config, ...overrides.config },
      logger,
      port: 0,
      ...(overrides.store ? { store: overrides.store } : {}),
    });
    workers.push(worker);
    return worker;
  };
  const stopWorker = async (worker: StartedService) => {
    workers.splice(workers.indexOf(worker), 1);
    await worker.stop();
  };

  /** Exact counts of a flag per variant over the last day, from DynamoDB. */
  const counted = async (flagKey: string) => {
    const rows = await store.countRows({ environment: 'production', flagKey, from: Date.now() - 86_400_000, to: Date.now() + 60_000 });
    const byVariant: Record<string, number> = {};
    for (const row of rows) byVariant[row.variant ?? 'null'] = (byVariant[row.variant ?? 'null'] ?? 0) + row.count;
    return byVariant;
  };
  const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
  /** A message of n single evaluations of one flag, as the evaluation service sends it. */
  const batchOf = (flagKey: string, n: number): OutgoingBatch => ({
    batchId: randomBytes(8).toString('hex'),
    records: Array.from({ length: n }, (_, i) => {
      const variant = i % 3 === 0 ? 'on' : 'off';
      return {
        environment: 'production',
        targetingKey: `key-${i}`,
        at: Date.now(),
        results: [{ flagKey, variant, value: variant === 'on', reason: 'SPLIT' }],
      };
    }),
    counts: [],
    events: n,
  });

  it('counts N evaluations exactly, per variant, from publisher to DynamoDB', async () => {
    await startWorker();
    const publisher = createEventPublisher({
      producer: createSqsProducer(createSqsClient(config), aws.queueUrl),
      maxBuffered: 100_000,
      intervalMs: 200,
      keySalt: 's',
      logger,
      metrics: new Registry(),
    });
    publisher.start();
    const n = 3_000;
    for (let i = 0; i < n; i++)
      publisher.record('production', [{ flagKey: 'exact', variant: i % 4 === 0 ? 'on' : 'off', value: i % 4 === 0, reason: 'SPLIT' }], {
        targetingKey: `user-${i}`,
      });
    await publisher.stop();
    const counts = await waitFor(
      () => counted('exact'),
      (c) => sum(c) >= n,
    );
    expect(counts).toEqual({ on: n / 4, off: (3 * n) / 4 });
  });

  it('makes an evaluation count within 5 s under the default settings, and its lag metric says so', async () => {
    if (workers.length === 0) await startWorker();
    const interval = testConfig().EVENTS_FLUSH_INTERVAL_MS;
    const publisher = createEventPublisher({
      producer: createSqsProducer(createSqsClient(config), aws.queueUrl),
      maxBuffered: 100_000,
      intervalMs: interval,
      keySalt: 's',
      logger,
      metrics: new Registry(),
    });
    publisher.start();
    try {
      // The worst moment: just after a tick, so the evaluation waits a whole interval for the next one.
      await new Promise((r) => setTimeout(r, interval - (Date.now() % interval) + 20));
      const evaluatedAt = Date.now();
      publisher.record('production', [{ flagKey: 'lag', variant: 'on', value: true, reason: 'STATIC' }], { targetingKey: 'u' });
      await waitFor(
        () => counted('lag'),
        (c) => sum(c) === 1,
        10_000,
      );
      expect(Date.now() - evaluatedAt).toBeLessThanOrEqual(5_000);
      const metrics = (await workers[0]!.app.inject({ method: 'GET', url: '/metrics' })).body;
      const count = Number(/^analytics_event_lag_seconds_count\{[^}]*\} (\d+)/m.exec(metrics)?.[1]);
      expect(count).toBeGreaterThan(0);
      expect(Number(/^analytics_event_lag_seconds_bucket\{le="5"[^}]*\} (\d+)/m.exec(metrics)?.[1])).toBe(count);
    } finally {
      await publisher.stop();
    }
  });

  it('counts a batch delivered twice only once', async () => {
    const producer = createSqsProducer(createSqsClient(config), aws.queueUrl);
    const body = await encodeBatch(batchOf('twice', 90), 's');
    await producer.send([body, body], {});
    await waitFor(
      () => counted('twice'),
      (c) => sum(c) >= 90,
    );
    // Give the second copy every chance to be processed, then check nothing changed.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(sum(await counted('twice'))).toBe(90);
  });

  it('counts exactly N when a worker dies halfway through writing a batch and another takes it over', async () => {
    for (const worker of [...workers]) await stopWorker(worker);
    // A batch over two minutes is two items, each written whole or not at all: this worker writes the first
    // minute's, then dies before acknowledging the message.
    const minute = Date.now() - (Date.now() % 60_000) - 60_000;
    let died = false;
    const dying = await startWorker({
      store: {
        ...store,
        async writeBatch(batch, retentionMs) {
          await store.writeBatch({ ...batch, events: batch.events.filter((e) => e[6] < minute + 60_000) }, retentionMs);
          died = true;
          throw new Error('killed');
        },
      },
    });
    const producer = createSqsProducer(createSqsClient(config), aws.queueUrl);
    const batch = batchOf('crash', 400);
    batch.records.forEach((record, i) => (record.at = minute + (i < 200 ? 1_000 : 61_000)));
    await producer.send([await encodeBatch(batch, 's')], {});
    await waitFor(
      async () => died,
      (d) => d,
    );
    await stopWorker(dying);
    expect(sum(await counted('crash'))).toBe(200);
    await startWorker();
    const counts = await waitFor(
      () => counted('crash'),
      (c) => sum(c) >= 400,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(sum(await counted('crash'))).toBe(400);
    expect(counts).toEqual({ on: 134, off: 266 });
  });

  it('moves a poison message to the dead-letter queue and counts the rest', async () => {
    const producer = createSqsProducer(createSqsClient(config), aws.queueUrl);
    await producer.send(['this is not an event batch', await encodeBatch(batchOf('after-poison', 50), 's')], {});
    await waitFor(
      () => counted('after-poison'),
      (c) => sum(c) >= 50,
    );
    const sqs = createSqsClient(config);
    const dead = await waitFor(
      async () =>
        (
          await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: aws.deadLetterUrl,
              MaxNumberOfMessages: 10,
              MessageAttributeNames: ['All'],
              WaitTimeSeconds: 1,
            }),
          )
        ).Messages ?? [],
      (messages) => messages.some((m) => m.Body === 'this is not an event batch'),
    );
    const poison = dead.find((m) => m.Body === 'this is not an event batch')!;
    expect(poison.MessageAttributes?.['dead-letter-reason']?.StringValue).toMatch(/gzip/);
    expect(sum(await counted('after-poison'))).toBe(50);
  });

  it('keeps evaluations unaffected while the queue is down, and catches the counts up when it returns', async () => {
    // A queue of its own on a fixed port, to take down and bring back.
    const probe = await createSqsServer({
      port: 0,
      hostname: '127.0.0.1',
      accountId: '000000000000',
      emulateQueueCreationLifecycle: false,
      queues: [],
    });
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const endpoint = `http://127.0.0.1:${port}`;
    const queueConfig = { ...config, AWS_ENDPOINT_URL_SQS: endpoint, SQS_QUEUE_URL: `${endpoint}/000000000000/outage` };
    const metrics = new Registry();
    const publisher = createEventPublisher({
      producer: createSqsProducer(createSqsClient(queueConfig), queueConfig.SQS_QUEUE_URL),
      maxBuffered: 100,
      intervalMs: 100,
      keySalt: 's',
      logger,
      metrics,
    });
    publisher.start();
    const n = 300;
    const started = performance.now();
    for (let i = 0; i < n; i++)
      publisher.record('production', [{ flagKey: 'outage', variant: 'on', value: true, reason: 'STATIC' }], { targetingKey: `u${i}` });
    // Recording never waits on the queue.
    expect(performance.now() - started).toBeLessThan(100);
    await waitFor(
      () => metrics.getSingleMetricAsString('evaluation_events_send_failures_total'),
      (text) => / [1-9]\d*$/m.test(text),
    );
    // The bound holds: the oldest 200 raw events were given up for room, but are still counted.
    expect(publisher.stats().droppedRaw).toBe(200);
    expect(publisher.stats().buffered).toBeLessThanOrEqual(100);

    const back = await createSqsServer({
      port,
      hostname: '127.0.0.1',
      accountId: '000000000000',
      emulateQueueCreationLifecycle: false,
      queues: [],
    });
    const sqs = createSqsClient(queueConfig);
    await sqs.send(new CreateQueueCommand({ QueueName: 'outage' }));
    const worker = await startWorker({ config: queueConfig });
    try {
      const counts = await waitFor(
        () => counted('outage'),
        (c) => sum(c) >= n,
      );
      expect(counts).toEqual({ on: n });
    } finally {
      await publisher.stop();
      await stopWorker(worker);
      await new Promise((r) => back.close(r));
    }
  });

  describe('compaction and the layout before ADR 15', () => {
    // A store on a clock of its own (the log is folded a minute after it is written), in an environment of its own
    // (its watermarks are not the other tests').
    let clock = Date.now();
    let timed: AnalyticsStore;
    const environment = 'compaction';
    beforeAll(() => {
      timed = createDynamoAnalyticsStore(createDynamoClient(config), config.DYNAMODB_TABLE, { now: () => clock });
    });
    const countedIn = async (flagKey: string) =>
      (await timed.countRows({ environment, flagKey, from: clock - 86_400_000, to: clock + 60_000 })).reduce((n, r) => n + r.count, 0);
    const batchAt = (batchId: string, flagKey: string, at: number, n = 10): EventBatch => ({
      batchId,
      events: Array.from({ length: n }, (_, j): EvaluationEvent => [flagKey, environment, 'on', 'STATIC', null, null, at + j]),
      counts: [],
    });

    it('keeps counts exact through compaction, also when a batch is written twice or delivered again after it', async () => {
      const old = clock - 10 * 60_000;
      const batches = [0, 1, 2].map((i) => batchAt(`compact${i}xx`, 'compacted', old));
      for (const b of batches) await timed.writeBatch(b, retention);
      await timed.writeBatch(batches[2]!, retention); // delivered twice before any fold
      expect(await countedIn('compacted')).toBe(30);
      clock += 5 * 60_000;
      expect(await timed.compact(clock)).toBeGreaterThan(0);
      expect(await countedIn('compacted')).toBe(30);
      await timed.writeBatch(batches[1]!, retention); // redelivered after the fold
      expect(await countedIn('compacted')).toBe(30);
      clock += 5 * 60_000;
      await timed.compact(clock);
      expect(await countedIn('compacted')).toBe(30);
      await timed.writeBatch(batchAt('compact9xx', 'compacted', old), retention); // a late, new batch for the same minute
      expect(await countedIn('compacted')).toBe(40);
      clock += 5 * 60_000;
      await timed.compact(clock);
      expect(await countedIn('compacted')).toBe(40);
    });

    it('splits a message of many flags by flag bucket and still counts and samples each flag exactly', async () => {
      const at = clock - 2 * 60_000;
      const flags = Array.from({ length: 300 }, (_, i) => `many-${i}`);
      const events = flags.flatMap((flag, i) =>
        Array.from({ length: 1 + (i % 3) }, (_, j): EvaluationEvent => [
          flag,
          environment,
          j % 2 ? 'on' : 'off',
          'SPLIT',
          null,
          `k${j}`,
          at + j,
        ]),
      );
      await timed.writeBatch({ batchId: 'manyflags01', events, counts: [] }, retention);
      await timed.writeBatch({ batchId: 'manyflags01', events, counts: [] }, retention); // delivered twice
      for (const i of [0, 1, 2, 157, 299]) expect(await countedIn(`many-${i}`)).toBe(1 + (i % 3));
      const all = await timed.countRows({ environment, from: at - 60_000, to: clock });
      expect(all.filter((r) => r.flagKey.startsWith('many-')).reduce((n, r) => n + r.count, 0)).toBe(events.length);
      const page = await timed.events({ environment, flagKey: 'many-2', from: at - 60_000, to: clock, limit: 10, now: clock });
      expect(page.items.map((e) => e.flagKey)).toEqual(['many-2', 'many-2', 'many-2']);
      clock += 5 * 60_000;
      await timed.compact(clock);
      for (const i of [0, 1, 2, 157, 299]) expect(await countedIn(`many-${i}`)).toBe(1 + (i % 3));
    });

    it('writes a batch again under a new arrival when its write was slow, and counts it once', async () => {
      // The store's clock: the arrival, the registration of its part, then 30 s later once the write is done.
      let calls = 0;
      const base = clock;
      const slow = createDynamoAnalyticsStore(createDynamoClient(config), config.DYNAMODB_TABLE, {
        now: () => base + (calls++ >= 2 ? 30_000 : 0),
      });
      await slow.writeBatch(batchAt('slowwrite01', 'slow', base - 60_000, 7), retention);
      const day = new Date(base).toISOString().slice(0, 10);
      const log = await createDynamoClient(config).send(
        new QueryCommand({
          TableName: config.DYNAMODB_TABLE,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: '#batch = :batch',
          ExpressionAttributeNames: { '#batch': 'batch' },
          ExpressionAttributeValues: {
            ':pk': { S: logPartition(environment, 'a', Date.parse(day), logShardOf('slowwrite01')) },
            ':batch': { S: 'slowwrite01' },
          },
        }),
      );
      expect(log.Items).toHaveLength(2);
      expect(await countedIn('slow')).toBe(7);
      clock += 5 * 60_000;
      await timed.compact(clock);
      expect(await countedIn('slow')).toBe(7);
    });

    it('spreads batches over the shards of the log, and reads a log item written before shards (the unsuffixed key) as shard 0', async () => {
      const at = clock - 60_000;
      const ids = Array.from({ length: 12 }, (_, i) => `sharded${String(i).padStart(4, '0')}`);
      expect(new Set(ids.map(logShardOf)).size).toBeGreaterThan(1);
      for (const id of ids) await timed.writeBatch(batchAt(id, 'sharded', at, 1), retention);
      // One batch of another shard moved to the key without a suffix, where the log kept every batch before shards.
      const moved = ids.find((id) => logShardOf(id) !== 0)!;
      const client = createDynamoClient(config);
      const sharded = logPartition(environment, 'a', clock, logShardOf(moved));
      const found = await client.send(
        new QueryCommand({
          TableName: config.DYNAMODB_TABLE,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: '#batch = :batch',
          ExpressionAttributeNames: { '#batch': 'batch' },
          ExpressionAttributeValues: { ':pk': { S: sharded }, ':batch': { S: moved } },
        }),
      );
      const item = found.Items![0]!;
      await client.send(
        new PutItemCommand({ TableName: config.DYNAMODB_TABLE, Item: { ...item, pk: { S: logPartition(environment, 'a', clock, 0) } } }),
      );
      await client.send(new DeleteItemCommand({ TableName: config.DYNAMODB_TABLE, Key: { pk: item.pk!, sk: item.sk! } }));
      expect(await countedIn('sharded')).toBe(12);
      clock += 5 * 60_000;
      await timed.compact(clock);
      expect(await countedIn('sharded')).toBe(12);
    });

    it('keeps the batch ids of a busy minute apart from its total and still counts exactly', async () => {
      const at = clock - 3 * 60_000;
      const batches = Array.from({ length: 140 }, (_, i) => batchAt(`busy${String(i).padStart(28, '0')}`, 'busy', at, 2));
      for (const b of batches) await timed.writeBatch(b, retention);
      clock += 5 * 60_000;
      await timed.compact(clock);
      const minute = at - (at % 60_000);
      const total = await createDynamoClient(config).send(
        new GetItemCommand({
          TableName: config.DYNAMODB_TABLE,
          Key: {
            pk: { S: `CT#${environment}#a#${new Date(minute).toISOString().slice(0, 10)}` },
            sk: { S: new Date(minute).toISOString().slice(0, 16) },
          },
          ConsistentRead: true,
        }),
      );
      expect(total.Item?.ids?.S).toBeDefined();
      expect(total.Item?.idsItems?.N).toBe('1');
      expect(total.Item?.batches).toBeUndefined();
      expect(await countedIn('busy')).toBe(280);
      await timed.writeBatch(batches[7]!, retention); // delivered again: its id is in the ids apart
      await timed.writeBatch(batchAt('busylate0001', 'busy', at, 3), retention); // a late, new one
      expect(await countedIn('busy')).toBe(283);
      clock += 5 * 60_000;
      await timed.compact(clock);
      expect(await countedIn('busy')).toBe(283);
    });

    it('counts what the previous layout wrote (per flag and minute, with its index and markers) beside the new', async () => {
      const dynamo = createDynamoClient(config);
      const minute = clock - (clock % 60_000) - 3 * 60_000;
      const day = new Date(minute).toISOString().slice(0, 10);
      const minuteKey = new Date(minute).toISOString().slice(0, 16);
      const put = (Item: Record<string, AttributeValue>) => dynamo.send(new PutItemCommand({ TableName: config.DYNAMODB_TABLE, Item }));
      // As the store wrote them before ADR 15: a batch's counts of one flag and minute, a compacted total, the index.
      const counts = { M: { '["on","STATIC",null]': { N: '7' }, '["off","STATIC",null]': { N: '5' } } };
      await put({
        pk: { S: `CNT#${environment}#legacy#${day}` },
        sk: { S: `${minuteKey}#B#oldbatch01` },
        kind: { S: 'batch' },
        batch: { S: 'oldbatch01' },
        minute: { N: String(minute) },
        c: counts,
      });
      await put({
        pk: { S: `CNT#${environment}#legacy#${day}` },
        sk: { S: `${minuteKey}#T` },
        kind: { S: 'total' },
        minute: { N: String(minute) },
        c: { M: { '["on","STATIC",null]': { N: '100' } } },
        batches: { SS: ['oldbatch00'] },
        version: { N: '1' },
      });
      await put({ pk: { S: `IDX#${environment}#${day}` }, sk: { S: 'legacy' }, kind: { S: 'index' } });
      await put({
        pk: { S: `DIRTY#0` },
        sk: { S: `${environment}#legacy#${minuteKey}` },
        kind: { S: 'dirty' },
        minute: { N: String(minute) },
      });
      expect(await countedIn('legacy')).toBe(112);
      await timed.writeBatch(batchAt('newbatch01', 'legacy', minute + 1_000, 8), retention);
      expect(await countedIn('legacy')).toBe(120);
      const all = await timed.countRows({ environment, from: minute, to: minute + 60_000 });
      expect(all.filter((r) => r.flagKey === 'legacy').reduce((n, r) => n + r.count, 0)).toBe(120);
      clock += 5 * 60_000;
      await timed.compact(clock);
      expect(await countedIn('legacy')).toBe(120);
    });
  });

  describe('metric events (tracking)', () => {
    /** Exact sums of a metric per variant over the last day, from DynamoDB. */
    const summed = async (flagKey: string) => {
      const rows = await store.metricRows({ environment: 'production', flagKey, from: Date.now() - 86_400_000, to: Date.now() + 60_000 });
      const byVariant: Record<string, { count: number; sum: number; sumOfSquares: number }> = {};
      for (const row of rows) {
        const arm = (byVariant[row.variant] ??= { count: 0, sum: 0, sumOfSquares: 0 });
        arm.count += row.count;
        arm.sum += row.sum;
        arm.sumOfSquares += row.sumOfSquares;
      }
      return byVariant;
    };
    /** n events of a 0/1 metric (every 5th on `on` an error, every 20th on `off`), summed as the evaluation service sends them. */
    const metricsOf = (flagKey: string, n: number, at = Date.now()) =>
      aggregateMetrics(
        Array.from({ length: n }, (_, i) => {
          const variant = i % 2 === 0 ? 'on' : 'off';
          const value = variant === 'on' ? Number(i % 10 === 0) : Number(i % 40 === 1);
          return { flagKey, environment: 'production', variant, metric: 'error', at: at - (i % 3) * 60_000, value };
        }),
      );
    const expected = (n: number) => ({
      on: { count: n / 2, sum: n / 10, sumOfSquares: n / 10 },
      off: { count: n / 2, sum: n / 40, sumOfSquares: n / 40 },
    });

    it('sums them exactly per variant, also when the message is delivered twice', async () => {
      if (workers.length === 0) await startWorker();
      const sender = createIngestSender(createSqsProducer(createSqsClient(config), aws.queueUrl), {
        keySalt: 's',
        metrics: new Registry(),
      });
      await sender.sendMetrics('metricsonce1', metricsOf('tracked', 400), 400);
      await sender.sendMetrics('metricsonce1', metricsOf('tracked', 400), 400); // the same request again (its Idempotency-Key)
      await sender.sendMetrics('metricsonce2', metricsOf('tracked', 400), 400);
      const sums = await waitFor(
        () => summed('tracked'),
        (s) => (s.on?.count ?? 0) + (s.off?.count ?? 0) >= 800,
      );
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await summed('tracked')).toEqual(expected(800));
      expect(sums).toEqual(expected(800));
    });

    it('sums them exactly when a worker dies halfway through writing them and another takes the message over', async () => {
      for (const worker of [...workers]) await stopWorker(worker);
      let died = false;
      const dying = await startWorker({
        store: {
          ...store,
          async writeBatch(batch, retentionMs) {
            // A batch's counters are items per flag and minute, each written whole or not at all: this one gets the
            // oldest minute's in (old enough to be compacted before the batch is written again) and dies.
            const oldest = Math.min(...(batch.metrics ?? []).map((m) => m[4]));
            await store.writeBatch({ ...batch, metrics: batch.metrics?.filter((m) => m[4] === oldest) }, retentionMs);
            died = true;
            throw new Error('killed');
          },
        },
      });
      const sender = createIngestSender(createSqsProducer(createSqsClient(config), aws.queueUrl), {
        keySalt: 's',
        metrics: new Registry(),
      });
      await sender.sendMetrics('metricscrash', metricsOf('tracked-crash', 600), 600);
      await waitFor(
        async () => died,
        (d) => d,
      );
      await stopWorker(dying);
      const half = await summed('tracked-crash');
      expect((half.on?.count ?? 0) + (half.off?.count ?? 0)).toBeLessThan(600);
      await startWorker();
      await waitFor(
        () => summed('tracked-crash'),
        (s) => (s.on?.count ?? 0) + (s.off?.count ?? 0) >= 600,
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(await summed('tracked-crash')).toEqual(expected(600));
    });

    it('keeps the sums exact through compaction, also when a compacted batch is delivered again', async () => {
      const old = Date.now() - 10 * 60_000;
      const batches = [0, 1].map((i): EventBatch => ({
        batchId: `metcompact${i}`,
        events: [],
        counts: [],
        metrics: metricsOf('tracked-old', 40, old),
      }));
      for (const b of batches) await store.writeBatch(b, retention);
      expect(await summed('tracked-old')).toEqual(expected(80));
      expect(await store.compact(Date.now())).toBeGreaterThan(0);
      expect(await summed('tracked-old')).toEqual(expected(80));
      await store.writeBatch(batches[1]!, retention);
      await store.compact(Date.now());
      expect(await summed('tracked-old')).toEqual(expected(80));
      // Fractions and exponents survive DynamoDB's number type.
      await store.writeBatch(
        {
          batchId: 'metfraction',
          events: [],
          counts: [],
          metrics: [['tracked-frac', 'production', 'on', 'latency', old - (old % 60_000), 3, 0.1 + 1e-7, 4.5e21]],
        },
        retention,
      );
      const [row] = await store.metricRows({ environment: 'production', flagKey: 'tracked-frac', from: old - 60_000, to: Date.now() });
      expect(row).toMatchObject({ metric: 'latency', variant: 'on', count: 3, sum: 0.1 + 1e-7, sumOfSquares: 4.5e21 });
    });
  });

  it('never returns an expired event, even before DynamoDB would remove it', async () => {
    const at = Date.now() - 5 * 60_000;
    await store.writeBatch(
      { batchId: 'expiring01', events: [['expiring', 'production', 'on', 'STATIC', null, null, at]], counts: [] },
      60_000,
    );
    await store.writeBatch(
      { batchId: 'lasting001', events: [['expiring', 'production', 'off', 'STATIC', null, null, at]], counts: [] },
      retention,
    );
    const page = await store.events({
      environment: 'production',
      flagKey: 'expiring',
      from: at - 60_000,
      to: Date.now(),
      limit: 10,
      now: Date.now(),
    });
    expect(page.items.map((e) => e.variant)).toEqual(['off']);
  });
});

describe('evaluation events pipeline over BullMQ on real Redis', () => {
  it('carries batches from producer to worker through the same processor', async () => {
    const connection = bullConnection(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    const queue = `events-test-${randomBytes(3).toString('hex')}`;
    const store = createAnalyticsStore();
    const consumer = createBullConsumer(connection, queue, 2, logger);
    const worker = await startAnalyticsWorker({
      config: { ...testConfig(), HOST: '127.0.0.1', EVENTS_TRANSPORT: 'bullmq' },
      logger,
      port: 0,
      store,
      consumer,
    });
    const producer = createBullProducer(connection, queue, logger);
    const publisher = createEventPublisher({
      producer,
      maxBuffered: 10_000,
      intervalMs: 100,
      keySalt: 's',
      logger,
      metrics: new Registry(),
    });
    publisher.start();
    await producer.send(['poison'], {});
    for (let i = 0; i < 500; i++)
      publisher.record('production', [{ flagKey: 'bull', variant: i % 2 ? 'a' : 'b', value: i % 2 === 1, reason: 'SPLIT' }], {
        targetingKey: `u${i}`,
      });
    await publisher.stop();
    try {
      const rows = await waitFor(
        () => store.countRows({ environment: 'production', flagKey: 'bull', from: Date.now() - 3_600_000, to: Date.now() + 60_000 }),
        (r) => r.reduce((n, row) => n + row.count, 0) >= 500,
      );
      expect(rows.reduce((n, row) => n + row.count, 0)).toBe(500);
      const metrics = await worker.app.inject({ method: 'GET', url: '/metrics' });
      await waitFor(
        async () => (await worker.app.inject({ method: 'GET', url: '/metrics' })).body,
        (body) => /outcome="dead-lettered"[^}]*} 1/.test(body),
      );
      expect(metrics.statusCode).toBe(200);
    } finally {
      await worker.stop();
    }
  });
});
