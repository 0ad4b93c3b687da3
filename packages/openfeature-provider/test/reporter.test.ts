import { OpenFeature } from '@openfeature/server-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import type { EvaluationResult } from '../../../shared/contracts/evaluation-model.ts';
import { compileEnvironment, evaluateFlag } from '../../../shared/engine/index.ts';
import type { SendOutcome } from '../src/http.ts';
import { ToggleMasterProvider } from '../src/index.ts';
import { Reporter, type ReportedCount, type ReportedEvaluation, type TrackEvent } from '../src/reporter.ts';
import { fakeService, type FakeService } from './fake-service.ts';
import { demoDocument, silentLogger, until } from './fixtures.ts';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Call {
  path: string;
  key: string;
  body: { evaluations?: ReportedEvaluation[]; counts?: ReportedCount[]; events?: TrackEvent[] };
}

/** A reporter whose requests are answered by `answer` (accepted unless it says otherwise), and what it was sent. */
function reporterWith(options: {
  maxBuffered?: number;
  maxCountGroups?: number;
  maxTrackBuffered?: number;
  answer?: (call: Call) => SendOutcome;
}) {
  const calls: Call[] = [];
  const log = silentLogger();
  const reporter = new Reporter({
    send: async (path, body, key) => {
      const call = { path, key, body: body as Call['body'] };
      calls.push(call);
      return options.answer?.(call) ?? { kind: 'accepted' };
    },
    logger: log.logger,
    maxBuffered: options.maxBuffered ?? 10_000,
    maxCountGroups: options.maxCountGroups ?? 100_000,
    maxTrackBuffered: options.maxTrackBuffered ?? 10_000,
    flushIntervalMs: 60_000,
    minRetryMs: 5,
    maxRetryMs: 20,
  });
  cleanups.push(() => reporter.close(1_000));
  return { reporter, calls, log };
}

/** Per (flag, variant, reason, rule): how many evaluations the requests carried, raw and counted together. */
function totals(calls: Call[]): Map<string, number> {
  const sums = new Map<string, number>();
  const add = (e: { flagKey: string; variant?: string; reason: string; ruleId?: string }, n: number) => {
    const group = `${e.flagKey}/${e.variant ?? '-'}/${e.reason}/${e.ruleId ?? '-'}`;
    sums.set(group, (sums.get(group) ?? 0) + n);
  };
  for (const call of calls) {
    for (const e of call.body.evaluations ?? []) add(e, 1);
    for (const c of call.body.counts ?? []) add(c, c.count);
  }
  return sums;
}

const env = compileEnvironment(demoDocument());
/** The engine's answers for a spread of users: frozen shared objects, and fresh error objects. */
function answers(n: number): { result: EvaluationResult; targetingKey: string }[] {
  const out: { result: EvaluationResult; targetingKey: string }[] = [];
  for (let i = 0; i < n; i++) {
    const targetingKey = `user-${i}`;
    const context = { targetingKey, country: i % 3 === 0 ? 'BR' : 'PT' };
    const key = ['gate', 'checkout', 'banner', 'nope'][i % 4]!;
    out.push({ result: evaluateFlag(env, key, context), targetingKey });
  }
  return out;
}

describe('Reporter', () => {
  it('keeps raw evaluations up to the bound, then counts the rest exactly per minute, flag, variant, reason and rule', async () => {
    const { reporter, calls } = reporterWith({ maxBuffered: 100 });
    const made = answers(1_000);
    // Recorded in one go (no turn of the event loop): the first 100 are kept raw, the other 900 counted.
    for (const { result, targetingKey } of made) reporter.recordEvaluation(result, targetingKey);
    expect(reporter.stats().evaluations).toMatchObject({ recorded: 1_000, buffered: 100, counted: 900, sent: 0, dropped: 0 });
    reporter.flush();
    await until(() => reporter.stats().evaluations.sent === 1_000, 2_000, 'everything sent');
    const raw = calls.flatMap((c) => c.body.evaluations ?? []);
    expect(raw).toHaveLength(100);
    expect(raw[0]).toEqual({ at: expect.any(Number) as number, targetingKey: 'user-0', flagKey: 'gate', variant: 'on', reason: 'STATIC' });
    const counts = calls.flatMap((c) => c.body.counts ?? []);
    expect(counts.every((c) => c.minute % 60_000 === 0 && c.count >= 1 && !('targetingKey' in c))).toBe(true);
    const expected = totals([{ path: '', key: '', body: { evaluations: made.map(({ result }) => ({ at: 0, ...result })) } }]);
    expect(totals(calls)).toEqual(expected);
    expect(reporter.stats().evaluations).toMatchObject({ recorded: 1_000, sent: 1_000, buffered: 0, counted: 0, inFlight: 0, dropped: 0 });
  });

  it('bounds the counted groups too: past maxCountGroups an evaluation is dropped, counted and said once', async () => {
    const { reporter, log } = reporterWith({ maxBuffered: 1, maxCountGroups: 2 });
    const results = ['gate', 'checkout', 'banner'].map((key) => evaluateFlag(env, key, { targetingKey: 'u' }));
    reporter.recordEvaluation(results[0]!, 'u'); // raw
    for (let i = 0; i < 10; i++) for (const result of results) reporter.recordEvaluation(result, 'u');
    expect(reporter.stats().evaluations).toMatchObject({ recorded: 31, buffered: 1, counted: 20, dropped: 10 });
    expect(log.lines.filter((l) => l.text.includes('groups of evaluations'))).toHaveLength(1);
  });

  it('sends a batch again with the same Idempotency-Key until it is taken, and never waits to record', async () => {
    let failures = 3;
    const { reporter, calls } = reporterWith({
      answer: () => (failures-- > 0 ? { kind: 'retry', reason: 'HTTP 503', afterMs: 0 } : { kind: 'accepted' }),
    });
    for (const { result, targetingKey } of answers(10)) reporter.recordEvaluation(result, targetingKey);
    reporter.flush();
    // Recording goes on while the batch is retried.
    for (const { result, targetingKey } of answers(5)) reporter.recordEvaluation(result, targetingKey);
    await until(() => reporter.stats().evaluations.sent === 10, 2_000, 'the batch taken');
    expect(calls.slice(0, 4).map((c) => c.key)).toEqual(Array(4).fill(calls[0]!.key));
    expect(calls[0]!.key).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(reporter.stats().evaluations).toMatchObject({ retries: 3, sent: 10, buffered: 5 });
    reporter.flush();
    await until(() => reporter.stats().evaluations.sent === 15, 2_000, 'the next batch');
    expect(calls.at(-1)!.key).not.toBe(calls[0]!.key);
  });

  it('drops what the service refuses; items it names are left out and the rest is sent again', async () => {
    let refusals = 0;
    const { reporter, calls, log } = reporterWith({
      answer: (call) => {
        if (call.path === '/events/v1/track' && refusals === 0) {
          refusals += 1;
          return { kind: 'refused', status: 400, reason: 'HTTP 400: 1 event(s) cannot be attributed', items: ['/events/1/flagKey'] };
        }
        if (call.path === '/events/v1/track' && refusals === 1 && call.body.events!.length === 3) {
          refusals += 1;
          return { kind: 'refused', status: 400, reason: 'HTTP 400: body/events/2/value must be <= 1e12', items: ['body/events/2/value'] };
        }
        if (call.path === '/events/v1/evaluations') return { kind: 'refused', status: 400, reason: 'HTTP 400', items: [] };
        return { kind: 'accepted' };
      },
    });
    for (const name of ['a', 'b', 'c']) reporter.recordTrack({ name, flagKey: 'gate', variant: 'on', at: Date.now() });
    for (const { result, targetingKey } of answers(4)) reporter.recordEvaluation(result, targetingKey);
    reporter.flush();
    await until(() => reporter.stats().track.sent === 2 && reporter.stats().evaluations.dropped === 4, 2_000, 'the answers');
    const track = calls.filter((c) => c.path === '/events/v1/track');
    expect(track.map((c) => c.body.events!.map((e) => e.name))).toEqual([
      ['a', 'b', 'c'],
      ['a', 'c'],
    ]);
    expect(track[1]!.key).not.toBe(track[0]!.key);
    expect(reporter.stats().track).toMatchObject({ recorded: 3, sent: 2, dropped: 1 });
    expect(log.lines.filter((l) => l.level === 'error')).toHaveLength(2);
    // A schema error names the item as `body/…`.
    for (const name of ['d', 'e', 'f']) reporter.recordTrack({ name, flagKey: 'gate', variant: 'on', at: Date.now() });
    reporter.flush();
    await until(() => reporter.stats().track.sent === 4, 2_000, 'the second batch');
    expect(
      calls
        .filter((c) => c.path === '/events/v1/track')
        .map((c) => c.body.events!.map((e) => e.name))
        .slice(2),
    ).toEqual([
      ['d', 'e', 'f'],
      ['d', 'e'],
    ]);
  });

  it('at close sends everything within the time given; what is left then is dropped, counted and logged', async () => {
    const { reporter, calls, log } = reporterWith({ maxBuffered: 50, answer: () => ({ kind: 'retry', reason: 'HTTP 503' }) });
    for (const { result, targetingKey } of answers(120)) reporter.recordEvaluation(result, targetingKey);
    reporter.recordTrack({ name: 'error', flagKey: 'gate', variant: 'on', value: 1, at: Date.now() });
    const started = Date.now();
    await reporter.close(150);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(calls.length).toBeGreaterThan(2);
    expect(reporter.stats().evaluations).toMatchObject({ recorded: 120, sent: 0, dropped: 120, buffered: 0, counted: 0, inFlight: 0 });
    expect(reporter.stats().track).toMatchObject({ recorded: 1, dropped: 1 });
    expect(log.lines.find((l) => l.text.includes('120 of 120 evaluations'))).toBeDefined();
  });
});

describe('reports of the provider', () => {
  async function withService() {
    const fake = await fakeService(demoDocument(), { stream: false });
    cleanups.push(() => fake.close());
    return fake;
  }

  async function started(fake: FakeService, events: { maxBuffered?: number; flushIntervalMs?: number } = {}) {
    const log = silentLogger();
    const provider = new ToggleMasterProvider({
      baseUrl: fake.baseUrl,
      sdkKey: fake.key,
      logger: log.logger,
      retry: { minDelayMs: 5, maxDelayMs: 20 },
      events: { flushIntervalMs: 60_000, closeTimeoutMs: 2_000, ...events },
    });
    cleanups.push(() => provider.onClose());
    const domain = `reporter-test-${Math.random()}`;
    await OpenFeature.setProviderAndWait(domain, provider);
    return { provider, client: OpenFeature.getClient(domain), log };
  }

  it('every evaluation counts once in what reaches the service, raw or counted, retried with the same key; onClose flushes', async () => {
    const fake = await withService();
    const { provider, client } = await started(fake, { maxBuffered: 100 });
    // The service refuses for a while (503, then a connection cut): the buffer fills, the rest is counted.
    fake.reportAnswers.push({ status: 503, retryAfter: 0 }, 'hang-up', { status: 503 });
    let expected = 0;
    for (let i = 0; i < 2_000; i++) {
      await client.getBooleanValue('checkout', false, { targetingKey: `user-${i}`, country: i % 2 === 0 ? 'BR' : 'PT' });
      expected += 1;
      if (i === 50) provider.flush();
    }
    await client.getStringValue('banner', 'x', { targetingKey: 'user-x' });
    await client.getStringValue('gate', 'x'); // a type mismatch is an evaluation too
    expected += 2;
    await OpenFeature.close();
    const stats = provider.stats().evaluations;
    expect(stats).toMatchObject({ recorded: expected, sent: expected, dropped: 0, buffered: 0, counted: 0, inFlight: 0 });
    expect(stats.retries).toBeGreaterThanOrEqual(3);
    const accepted = fake.accepted('/events/v1/evaluations');
    const sum = totals(accepted.map((r) => ({ path: r.path, key: r.idempotencyKey!, body: r.body as Call['body'] })));
    expect(Object.fromEntries(sum)).toEqual({
      'checkout/on/TARGETING_MATCH/rule-br': 1_000,
      'checkout/off/DEFAULT/-': 1_000,
      [`banner/${evaluateFlag(env, 'banner', { targetingKey: 'user-x' }).variant}/SPLIT/-`]: 1,
      'gate/-/ERROR/-': 1,
    });
    // The first batch was tried three times before it was taken, always under the key it was given first.
    const first = fake.received.filter((r) => r.path === '/events/v1/evaluations').slice(0, 4);
    expect(first.map((r) => r.status)).toEqual([503, 0, 503, 202]);
    expect(new Set(first.map((r) => r.idempotencyKey)).size).toBe(1);
    expect(first.every((r) => r.apiKey === fake.key)).toBe(true);
    // Raw evaluations keep the targeting key; counted ones are grouped by minute.
    const raw = accepted.flatMap((r) => (r.body as Call['body']).evaluations ?? []);
    expect(raw.length).toBeGreaterThanOrEqual(100);
    expect(raw[0]).toMatchObject({
      targetingKey: 'user-0',
      flagKey: 'checkout',
      variant: 'on',
      reason: 'TARGETING_MATCH',
      ruleId: 'rule-br',
    });
    expect(accepted.some((r) => ((r.body as Call['body']).counts ?? []).length > 0)).toBe(true);
  });

  it("track() sends metric events attributed to the flag's variant, evaluated from the context when not given", async () => {
    const fake = await withService();
    const { provider, client, log } = await started(fake);
    client.track('checkout-error', { targetingKey: 'u1', country: 'BR' }, { flagKey: 'checkout', value: 1 });
    client.track('latency', { targetingKey: 'u2' }, { flagKey: 'checkout', variant: 'on', value: 120.5 });
    client.track('conversion', { targetingKey: 'u3', country: 'PT' }, { flagKey: 'checkout' });
    // Not attributable: no flag, a flag that does not exist, a split with no key to split on, a value out of range.
    client.track('orphan', { targetingKey: 'u4' }, { value: 3 });
    client.track('orphan', { targetingKey: 'u5' });
    client.track('ghost', { targetingKey: 'u6' }, { flagKey: 'nope' });
    client.track('split', {}, { flagKey: 'banner' });
    client.track('huge', { targetingKey: 'u7' }, { flagKey: 'gate', value: 1e13 });
    await provider.onClose();
    const sent = fake.accepted('/events/v1/track').flatMap((r) => (r.body as { events: TrackEvent[] }).events);
    // Each with the time it happened: a batch sent again lands in the same minute.
    const at = expect.any(Number) as unknown;
    expect(sent).toEqual([
      { name: 'checkout-error', flagKey: 'checkout', variant: 'on', value: 1, at },
      { name: 'latency', flagKey: 'checkout', variant: 'on', value: 120.5, at },
      { name: 'conversion', flagKey: 'checkout', variant: 'off', at },
    ]);
    expect(fake.received.find((r) => r.path === '/events/v1/track')!.idempotencyKey).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
    expect(provider.stats().track).toMatchObject({ recorded: 8, sent: 3, dropped: 5 });
    // Said once per kind of mistake, not per event.
    expect(log.lines.filter((l) => l.text.includes('details.flagKey'))).toHaveLength(1);
    // Tracking events are not evaluations.
    expect(provider.stats().evaluations.recorded).toBe(0);
  });
});
