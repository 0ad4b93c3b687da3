import { OpenFeature, ProviderEvents, ProviderStatus, type EventDetails } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlagDocument } from '../../../shared/contracts/flag-model.ts';
import { flagDocument } from '../../../shared/testing/flags-client.ts';
import { ToggleMasterProvider } from '../src/index.ts';
import type { ToggleMasterProviderOptions } from '../src/types.ts';
import { clientKey, evaluationService, serverKey, type EvaluationService } from './evaluation-service.ts';
import { demoSeed } from './flag-sets.ts';
import { silentLogger, until } from './fixtures.ts';

/*
 * The provider against ToggleMaster's real evaluation service (in this process, over a configuration cache the test
 * fills and publishes changes to, as the flags and targeting services would): configuration, change stream,
 * outage, and the reports that reach the events queue.
 */
describe('the provider with the evaluation service', () => {
  let service: EvaluationService;
  let domains = 0;

  beforeAll(async () => {
    service = await evaluationService(demoSeed());
  });
  afterAll(() => service?.close());

  async function connected(options: Partial<ToggleMasterProviderOptions> = {}) {
    const log = silentLogger();
    const provider = new ToggleMasterProvider({
      baseUrl: service.baseUrl,
      sdkKey: serverKey,
      logger: log.logger,
      retry: { minDelayMs: 20, maxDelayMs: 200 },
      ...options,
    });
    const domain = `service-test-${++domains}`;
    await OpenFeature.setProviderAndWait(domain, provider);
    return { provider, client: OpenFeature.getClient(domain), log };
  }

  /** A flag edited as the flags service would: written to the cache, then the change published. */
  async function edit(flag: FlagDocument): Promise<void> {
    await service.cache.putFlag(flag);
    await service.cache.publish({ kind: 'flag', key: flag.key });
  }

  const newCheckout = (version: number, defaultVariant: 'on' | 'off') =>
    flagDocument('new-checkout', {
      version,
      environments: { development: { enabled: true, offVariant: 'off', defaultServe: { variant: defaultVariant }, prerequisites: [] } },
    });

  it('refuses to start with a client key: the configuration holds every rule and segment', async () => {
    const provider = new ToggleMasterProvider({ baseUrl: service.baseUrl, sdkKey: clientKey, logger: silentLogger().logger });
    await expect(provider.initialize()).rejects.toThrow(/HTTP 403/);
    await provider.onClose();
  });

  it('answers from the demo configuration, then follows a change through the stream within a second', async () => {
    const { provider, client } = await connected();
    try {
      expect(await client.getBooleanDetails('new-checkout', false, { targetingKey: 'user-1' })).toMatchObject({
        value: true,
        reason: 'TARGETING_MATCH',
        flagMetadata: { ruleId: '00000000-0000-4000-8000-000000000001' },
      });
      expect(await client.getNumberDetails('search-page-size', 0)).toMatchObject({ value: 10, reason: 'DISABLED' });
      await until(() => provider.stats().sync.streaming, 5_000, 'the stream');
      const changes: { at: number; details: EventDetails }[] = [];
      client.addHandler(ProviderEvents.ConfigurationChanged, (details) => void changes.push({ at: Date.now(), details: details! }));
      const latencies: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        await edit(newCheckout(2 + i, i % 2 === 0 ? 'on' : 'off'));
        await until(() => changes.length === i + 1, 2_000, `change ${i}`);
        latencies.push(changes[i]!.at - started);
        expect(changes[i]!.details.flagsChanged).toEqual(['new-checkout']);
        expect(await client.getBooleanValue('new-checkout', i % 2 !== 0, { targetingKey: 'user-9' })).toBe(i % 2 === 0);
      }
      expect(Math.max(...latencies)).toBeLessThan(1_000);
      // A segment change reaches the flags that read it.
      const [beta] = demoSeed().segments;
      await service.cache.putSegment({ ...beta!, included: ['user-1', 'user-2', 'user-9'] });
      await service.cache.publish({ kind: 'segment', key: 'beta-testers' });
      await until(() => changes.length === 6, 2_000, 'the segment change');
      expect(changes[5]!.details.flagsChanged).toEqual(['new-checkout']);
      expect(await client.getBooleanDetails('new-checkout', false, { targetingKey: 'user-9' })).toMatchObject({
        reason: 'TARGETING_MATCH',
      });
    } finally {
      await provider.onClose();
    }
  });

  it('keeps answering from its copy while the service is stopped, and resyncs when it is back', async () => {
    const { provider, client } = await connected({ pollIntervalMs: 100, staleAfterMs: 300 });
    try {
      await until(() => provider.stats().sync.streaming, 5_000, 'the stream');
      const before = await client.getBooleanDetails('new-checkout', false, { targetingKey: 'user-1' });
      await service.stop();
      await until(() => !provider.stats().sync.streaming, 5_000, 'the stream to end');
      // A change made while the service is away (the cache has it; nobody can tell the provider).
      await service.cache.putFlag(newCheckout(20, 'on'));
      await service.cache.putRules('development', 'new-checkout', []);
      for (let i = 0; i < 3; i++) {
        expect(await client.getBooleanDetails('new-checkout', false, { targetingKey: 'user-1' })).toMatchObject({
          value: before.value,
          variant: before.variant,
        });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await until(() => client.providerStatus === ProviderStatus.STALE, 5_000, 'STALE');
      expect(await client.getBooleanDetails('new-checkout', false, { targetingKey: 'user-1' })).toMatchObject({
        value: before.value,
        reason: 'STALE',
      });
      const changed = new Promise<EventDetails | undefined>((resolve) => client.addHandler(ProviderEvents.ConfigurationChanged, resolve));
      await service.start();
      expect((await changed)?.flagsChanged).toEqual(['new-checkout']);
      await until(() => client.providerStatus === ProviderStatus.READY, 5_000, 'READY');
      expect(await client.getBooleanDetails('new-checkout', false, { targetingKey: 'user-9' })).toMatchObject({
        value: true,
        reason: 'STATIC',
      });
      // And the stream is followed again (the new instance checks the token of the old one as any instance would).
      await until(() => provider.stats().sync.streaming, 5_000, 'the stream back');
    } finally {
      await provider.onClose();
    }
  });

  it('every evaluation is counted once on the events queue, raw or counted, all flushed by OpenFeature.close()', async () => {
    const { provider, client } = await connected({ events: { maxBuffered: 500, flushIntervalMs: 50 } });
    service.queue.messages.length = 0;
    // The queue refuses for a while: the service answers 503, the provider keeps the batch and its key.
    service.queue.down = true;
    const evaluations = 20_000;
    const evaluate = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        await client.getStringValue('banner-color', 'none', { targetingKey: `user-${i}` });
        // The application's event loop turns now and then: the reports go out meanwhile.
        if (i % 1_000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    };
    await evaluate(0, 5_000);
    await until(() => provider.stats().evaluations.retries > 0, 5_000, 'a refused report');
    service.queue.down = false;
    await evaluate(5_000, evaluations);
    await client.getBooleanValue('search-page-size', false); // a type mismatch: evaluated and counted too
    await OpenFeature.close();
    const stats = provider.stats().evaluations;
    expect(stats).toMatchObject({ recorded: evaluations + 1, sent: evaluations + 1, dropped: 0 });
    expect(stats.retries).toBeGreaterThan(0);
    const totals = service.evaluationTotals();
    expect((totals.get('banner-color/blue/SPLIT/-') ?? 0) + (totals.get('banner-color/green/SPLIT/-') ?? 0)).toBe(evaluations);
    expect(totals.get('banner-color/blue/SPLIT/-')).toBeGreaterThan(evaluations * 0.45);
    expect(totals.get('search-page-size/-/ERROR/-')).toBe(1);
    // Some went raw (with the targeting key hashed), the rest counted.
    expect(service.queue.messages.some((m) => m.events.some((e) => e[5] !== null))).toBe(true);
    expect(service.queue.messages.some((m) => m.counts.length > 0)).toBe(true);
  });

  it('tracking events reach the queue as the sums guardrails read, per flag, variant and metric', async () => {
    const { provider, client } = await connected();
    service.queue.messages.length = 0;
    for (let i = 0; i < 100; i++) client.track('latency', { targetingKey: `user-${i}` }, { flagKey: 'banner-color', value: i });
    await provider.onClose();
    expect(provider.stats().track).toMatchObject({ recorded: 100, sent: 100, dropped: 0 });
    const metrics = service.queue.messages.flatMap((m) => m.metrics);
    const count = metrics.reduce((n, m) => n + m[5], 0);
    const sum = metrics.reduce((n, m) => n + m[6], 0);
    expect([count, sum]).toEqual([100, 4950]);
    expect(new Set(metrics.map((m) => `${m[0]}/${m[1]}/${m[3]}`))).toEqual(new Set(['banner-color/development/latency']));
  });
});
