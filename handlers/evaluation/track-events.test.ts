import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createIngestSender } from '../../shared/events/ingest-sender.ts';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import { flagDocument } from '../../shared/testing/flags-client.ts';
import { fixedSdkKeys } from '../../shared/testing/sdk-keys.ts';
import { evaluationOnCache, type EvaluationApp } from '../testing/evaluation-on-cache.ts';
import { memoryQueue } from '../testing/memory-queue.ts';

const server = { 'x-api-key': 'secret-production' };
const client = { 'x-api-key': 'public-production' };

describe('POST /events/v1/track: metric events for guardrails', () => {
  const cache = createMemoryConfigCache();
  const { queue, producer } = memoryQueue();
  let evaluation: Awaited<ReturnType<typeof evaluationOnCache>>;
  let app: EvaluationApp;

  beforeAll(async () => {
    const split = {
      enabled: true,
      offVariant: 'off',
      prerequisites: [],
      defaultServe: {
        rollout: [
          { variant: 'on', weight: 50 },
          { variant: 'off', weight: 50 },
        ],
      },
    };
    await cache.putFlag(flagDocument('checkout', { clientVisible: true, environments: { production: split, development: split } }));
    await cache.putFlag(flagDocument('internal'));
    evaluation = await evaluationOnCache(cache, {
      sdkKeys: fixedSdkKeys({ 'public-production': { environment: 'production', kind: 'client' }, 'secret-production': 'production' }),
      ingest: createIngestSender(producer, { keySalt: 's', metrics: new Registry() }),
    });
    app = evaluation.app;
  });
  afterAll(() => evaluation.close());
  beforeEach(() => {
    queue.messages.length = 0;
    queue.down = false;
  });

  const track = (events: unknown[], headers: Record<string, string> = server) =>
    app.inject({ method: 'POST', url: '/events/v1/track', headers, payload: { events } });

  it('queues the events summed per flag, variant, metric and minute before it answers 202', async () => {
    const res = await track([
      { name: 'error', flagKey: 'checkout', variant: 'on', value: 1 },
      { name: 'error', flagKey: 'checkout', variant: 'on', value: 0 },
      { name: 'error', flagKey: 'checkout', variant: 'off' },
      { name: 'latency', flagKey: 'checkout', variant: 'on', value: 120.5 },
    ]);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ accepted: 4 });
    expect(queue.messages).toHaveLength(1);
    const [message] = queue.messages;
    const minute = Date.now() - (Date.now() % 60_000);
    const rows = message!.metrics.map(([flag, env, variant, metric, at, count, sum, squares]) => ({
      flag,
      env,
      variant,
      metric,
      count,
      sum,
      squares,
      at,
    }));
    expect(rows.every((r) => r.at === minute || r.at === minute - 60_000)).toBe(true);
    expect(rows.map(({ at: _at, ...r }) => r)).toEqual([
      { flag: 'checkout', env: 'production', variant: 'on', metric: 'error', count: 2, sum: 1, squares: 1 },
      { flag: 'checkout', env: 'production', variant: 'off', metric: 'error', count: 1, sum: 1, squares: 1 },
      { flag: 'checkout', env: 'production', variant: 'on', metric: 'latency', count: 1, sum: 120.5, squares: 120.5 ** 2 },
    ]);
  });

  it('attributes an event without a variant to the one the context is served (the join on the exposure)', async () => {
    const contexts = Array.from({ length: 40 }, (_, i) => ({ targetingKey: `user-${i}` }));
    const served = await Promise.all(
      contexts.map(
        async (context) =>
          (await app.inject({ method: 'POST', url: '/evaluate', headers: server, payload: { flagKey: 'checkout', context } })).json<{
            variant: string;
          }>().variant,
      ),
    );
    expect((await track(contexts.map((context) => ({ name: 'error', flagKey: 'checkout', context })))).statusCode).toBe(202);
    const counts = Object.fromEntries(queue.messages[0]!.metrics.map((m) => [m[2], m[5]]));
    expect(counts).toEqual({ on: served.filter((v) => v === 'on').length, off: served.filter((v) => v === 'off').length });
  });

  it('refuses the whole request, naming each event it cannot attribute, and queues nothing', async () => {
    const res = await track([
      { name: 'error', flagKey: 'checkout', variant: 'on' },
      { name: 'error', flagKey: 'no-such-flag', variant: 'on' },
      { name: 'error', flagKey: 'checkout' }, // a split needs a targeting key to know the variant
    ]);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['/events/1/flagKey', '/events/2']);
    expect(queue.messages).toEqual([]);
  });

  it('validates every field: names, values, sizes', async () => {
    const bad = [
      [{ name: 'has space', flagKey: 'checkout', variant: 'on' }],
      [{ name: 'error', flagKey: 'checkout', variant: 'on', value: 1e13 }],
      [{ name: 'error', flagKey: 'checkout', variant: 'on', value: 'one' }],
      [{ name: 'error', flagKey: 'checkout', variant: 'on', extra: true }],
      [],
      Array.from({ length: 1001 }, () => ({ name: 'error', flagKey: 'checkout', variant: 'on' })),
    ];
    for (const events of bad) expect((await track(events)).statusCode, JSON.stringify(events).slice(0, 80)).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/events/v1/track', payload: { events: [] } })).statusCode).toBe(401);
    expect(queue.messages).toEqual([]);
  });

  it('shows a client key only the client-visible flags, as OFREP does', async () => {
    expect((await track([{ name: 'error', flagKey: 'checkout', variant: 'on' }], client)).statusCode).toBe(202);
    const hidden = await track([{ name: 'error', flagKey: 'internal', variant: 'on' }], client);
    expect(hidden.statusCode).toBe(400);
    expect(hidden.json<{ errors: { message: string }[] }>().errors[0]!.message).toContain('no flag "internal"');
  });

  it('answers 503 with Retry-After when the queue refuses: nothing acknowledged is lost', async () => {
    queue.down = true;
    const res = await track([{ name: 'error', flagKey: 'checkout', variant: 'on' }]);
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
  });

  it('gives a request sent again with the same Idempotency-Key the same batch, which the analytics count once', async () => {
    const headers = { ...server, 'idempotency-key': 'retry-0001' };
    const first = await track([{ name: 'error', flagKey: 'checkout', variant: 'on' }], headers);
    const again = await track([{ name: 'error', flagKey: 'checkout', variant: 'on' }], headers);
    const other = await track([{ name: 'error', flagKey: 'checkout', variant: 'on' }], { ...server, 'idempotency-key': 'retry-0002' });
    expect(first.json<{ batchId: string }>().batchId).toBe(again.json<{ batchId: string }>().batchId);
    expect(other.json<{ batchId: string }>().batchId).not.toBe(first.json<{ batchId: string }>().batchId);
    expect((await track([{ name: 'error', flagKey: 'checkout', variant: 'on' }], { ...server, 'idempotency-key': 'no' })).statusCode).toBe(
      400,
    );
  });

  it('counts an event in the minute it happened (`at`): a request sent again a minute later lands on the same items', async () => {
    const at = Date.now() - 90_000;
    const headers = { ...server, 'idempotency-key': 'retry-at-01' };
    expect((await track([{ name: 'error', flagKey: 'checkout', variant: 'on', at }], headers)).statusCode).toBe(202);
    expect((await track([{ name: 'error', flagKey: 'checkout', variant: 'on', at }], headers)).statusCode).toBe(202);
    const [first, again] = queue.messages;
    expect(again!.batchId).toBe(first!.batchId);
    expect(again!.metrics).toEqual(first!.metrics);
    expect(first!.metrics[0]![4]).toBe(at - (at % 60_000));
    const old = await track([{ name: 'error', flagKey: 'checkout', variant: 'on', at: Date.now() - 8 * 86_400_000 }]);
    expect(old.statusCode).toBe(400);
    expect(old.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['/events/0/at']);
  });
});

describe('POST /events/v1/track where events are not collected', () => {
  it('answers 503, not 202: nothing would keep them', async () => {
    const cache = createMemoryConfigCache();
    await cache.putFlag(flagDocument('checkout'));
    const evaluation = await evaluationOnCache(cache, { sdkKeys: fixedSdkKeys({ 'secret-production': 'production' }) });
    const res = await evaluation.app.inject({
      method: 'POST',
      url: '/events/v1/track',
      headers: server,
      payload: { events: [{ name: 'error', flagKey: 'checkout', variant: 'on' }] },
    });
    expect(res.statusCode).toBe(503);
    await evaluation.close();
  });
});
