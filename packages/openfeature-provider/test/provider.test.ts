import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, OpenFeature, ProviderEvents, ProviderStatus, type EvaluationContext, type EventDetails } from '@openfeature/server-sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { compileEnvironment, evaluateFlag } from '../../../shared/engine/index.ts';
import { ToggleMasterProvider } from '../src/index.ts';
import type { ConfigurationDocument, ToggleMasterProviderOptions } from '../src/types.ts';
import { fakeService, type FakeService } from './fake-service.ts';
import { demoDocument, flag, segment, silentLogger, until, withFlag } from './fixtures.ts';

let domainCounter = 0;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A provider set on a domain of its own of the OpenFeature API, and its client. */
async function started(options: ToggleMasterProviderOptions) {
  const domain = `provider-test-${++domainCounter}`;
  const log = silentLogger();
  const provider = new ToggleMasterProvider({ logger: log.logger, ...options });
  cleanups.push(() => provider.onClose());
  await OpenFeature.setProviderAndWait(domain, provider);
  const client = OpenFeature.getClient(domain);
  return { provider, client, domain, log };
}

async function service(document: ConfigurationDocument = demoDocument(), options: { stream?: boolean } = {}): Promise<FakeService> {
  const fake = await fakeService(document, options);
  cleanups.push(() => fake.close());
  return fake;
}

/** Reports go every 20 ms, retries after 10–40 ms: the tests do not wait for the defaults. */
const quick = { retry: { minDelayMs: 10, maxDelayMs: 40 }, events: { flushIntervalMs: 20, closeTimeoutMs: 2_000 } };

describe('answers from a bootstrap document', () => {
  it('answers as the engine does, with the reasons, variants and rule ids of the service', async () => {
    const document = demoDocument();
    const { client } = await started({ bootstrap: document });
    const env = compileEnvironment(document);
    const contexts: EvaluationContext[] = [
      { targetingKey: 'ana' },
      { targetingKey: 'bob', country: 'BR' },
      { targetingKey: 'cid', country: 'PT' },
      {},
    ];
    for (const context of contexts) {
      for (const [key, get] of [
        ['gate', () => client.getBooleanDetails('gate', false, context)],
        ['checkout', () => client.getBooleanDetails('checkout', false, context)],
        ['banner', () => client.getStringDetails('banner', 'none', context)],
        ['page-size', () => client.getNumberDetails('page-size', 0, context)],
        ['theme', () => client.getObjectDetails('theme', {}, context)],
        ['child', () => client.getBooleanDetails('child', false, context)],
      ] as const) {
        const details = await get();
        const expected = evaluateFlag(env, key, context);
        if (expected.reason === 'ERROR') {
          expect(details, `${key} ${JSON.stringify(context)}`).toMatchObject({ reason: 'ERROR', errorCode: expected.errorCode });
        } else {
          expect(details, `${key} ${JSON.stringify(context)}`).toMatchObject({
            value: expected.value,
            variant: expected.variant,
            reason: expected.reason,
            flagMetadata: expected.ruleId ? { ruleId: expected.ruleId } : {},
          });
        }
      }
    }
  });

  it('says each reason: STATIC, TARGETING_MATCH with the rule, DEFAULT, SPLIT, DISABLED', async () => {
    const { client } = await started({ bootstrap: demoDocument() });
    expect(await client.getBooleanDetails('gate', false)).toMatchObject({ value: true, variant: 'on', reason: 'STATIC' });
    expect(await client.getBooleanDetails('checkout', false, { targetingKey: 'u', country: 'BR' })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
      flagMetadata: { ruleId: 'rule-br' },
    });
    expect(await client.getBooleanDetails('checkout', true, { targetingKey: 'ana' })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
      flagMetadata: { ruleId: 'rule-beta' },
    });
    expect(await client.getBooleanDetails('checkout', true, { targetingKey: 'u', country: 'PT' })).toMatchObject({
      value: false,
      variant: 'off',
      reason: 'DEFAULT',
      flagMetadata: {},
    });
    expect((await client.getStringDetails('banner', 'x', { targetingKey: 'u' })).reason).toBe('SPLIT');
    expect(await client.getNumberDetails('page-size', 0)).toMatchObject({ value: 10, variant: 'small', reason: 'DISABLED' });
    expect(await client.getObjectDetails('theme', {})).toMatchObject({
      value: { background: 'black', accents: ['orange'] },
      variant: 'dark',
    });
  });

  it('answers a split without a targeting key, a wrong type and a missing flag with the default and the error code', async () => {
    const { client } = await started({ bootstrap: demoDocument() });
    expect(await client.getStringDetails('banner', 'fallback', {})).toMatchObject({
      value: 'fallback',
      reason: 'ERROR',
      errorCode: ErrorCode.TARGETING_KEY_MISSING,
    });
    expect(await client.getStringDetails('gate', 'fallback')).toMatchObject({
      value: 'fallback',
      reason: 'ERROR',
      errorCode: ErrorCode.TYPE_MISMATCH,
    });
    expect(await client.getNumberDetails('banner', 7, { targetingKey: 'u' })).toMatchObject({
      value: 7,
      errorCode: ErrorCode.TYPE_MISMATCH,
    });
    expect(await client.getObjectDetails('gate', { a: 1 })).toMatchObject({ value: { a: 1 }, errorCode: ErrorCode.TYPE_MISMATCH });
    expect(await client.getBooleanDetails('nope', true)).toMatchObject({
      value: true,
      reason: 'ERROR',
      errorCode: ErrorCode.FLAG_NOT_FOUND,
    });
  });

  it('reads a Date of the context as the service reads it after JSON (an ISO string)', async () => {
    const document: ConfigurationDocument = {
      environment: 'production',
      segments: [],
      flags: [
        flag('new-users', {
          rules: [
            {
              id: 'recent',
              flagKey: 'new-users',
              environment: 'production',
              priority: 1,
              name: 'recent',
              conditions: [{ attribute: 'account.signup', operator: 'after', values: ['2025-01-01T00:00:00Z'] }],
              segments: [],
              serve: { variant: 'on' },
            },
          ],
        }),
      ],
    };
    const { client } = await started({ bootstrap: document });
    expect(await client.getBooleanValue('new-users', false, { account: { signup: new Date('2025-06-01T00:00:00Z') } })).toBe(true);
    expect(await client.getBooleanValue('new-users', false, { account: { signup: new Date('2024-06-01T00:00:00Z') } })).toBe(false);
  });

  it('gives each caller its own copy of an object value', async () => {
    const { client } = await started({ bootstrap: demoDocument() });
    const first = (await client.getObjectValue('theme', {})) as { accents: string[] };
    first.accents.push('mine');
    expect(await client.getObjectValue('theme', {})).toEqual({ background: 'black', accents: ['orange'] });
  });

  it('starts from a bootstrap file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tm-provider-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'flags.json');
    await writeFile(file, JSON.stringify(demoDocument()));
    const { client, provider } = await started({ bootstrap: file });
    expect(await client.getBooleanValue('gate', false)).toBe(true);
    expect(provider.stats().sync.flags).toBe(6);
  });

  it('fails to start on a document it cannot compile, with what is wrong', async () => {
    const provider = new ToggleMasterProvider({ bootstrap: { environment: 'x', flags: [{ key: 'a' }], segments: [] } as never });
    await expect(provider.initialize()).rejects.toThrow(/flags\[0\]/);
  });

  it('metadata: a server provider with a name', () => {
    const provider = new ToggleMasterProvider({ bootstrap: demoDocument() });
    expect(provider.metadata.name).toMatch(/ToggleMaster/);
    expect(provider.runsOn).toBe('server');
    expect(() => new ToggleMasterProvider({})).toThrow(/baseUrl/);
  });
});

describe('syncing with the service', () => {
  it('is ready once it has the document, and sends the SDK key', async () => {
    const fake = await service(demoDocument(), { stream: false });
    const { client, provider } = await started({ baseUrl: fake.baseUrl, sdkKey: fake.key, ...quick });
    expect(await client.getBooleanValue('gate', false)).toBe(true);
    expect(provider.stats().sync).toMatchObject({ flags: 6, stale: false, streaming: false });
    expect(provider.stats().sync.etag).toMatch(/^"/);
  });

  it('fails to start on a refused key at once, and when the service stays away past initTimeoutMs', async () => {
    const fake = await service();
    const refused = new ToggleMasterProvider({ baseUrl: fake.baseUrl, sdkKey: 'client-key', logger: silentLogger().logger });
    cleanups.push(() => refused.onClose());
    await expect(refused.initialize()).rejects.toThrow(/refused the SDK key \(HTTP 401\)/);
    const away = new ToggleMasterProvider({
      baseUrl: 'http://127.0.0.1:9',
      sdkKey: 'k',
      initTimeoutMs: 200,
      logger: silentLogger().logger,
      ...quick,
    });
    cleanups.push(() => away.onClose());
    const started = Date.now();
    await expect(away.initialize()).rejects.toThrow(/no configuration could be read/);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('becomes READY when the service comes back after a failed start', async () => {
    const fake = await service();
    fake.setDown(true);
    const domain = `provider-test-${++domainCounter}`;
    const provider = new ToggleMasterProvider({
      baseUrl: fake.baseUrl,
      sdkKey: fake.key,
      initTimeoutMs: 100,
      logger: silentLogger().logger,
      ...quick,
    });
    cleanups.push(() => provider.onClose());
    await expect(OpenFeature.setProviderAndWait(domain, provider)).rejects.toThrow();
    const client = OpenFeature.getClient(domain);
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    fake.setDown(false);
    await until(() => client.providerStatus === ProviderStatus.READY, 5_000, 'READY');
    expect(await client.getBooleanValue('gate', false)).toBe(true);
  });

  it('follows the stream: a change event makes it ask again with the ETag and flagConfigEtag, and emits the changed keys', async () => {
    const fake = await service();
    const { client, provider } = await started({ baseUrl: fake.baseUrl, sdkKey: fake.key, pollIntervalMs: 60_000, ...quick });
    await until(() => provider.stats().sync.streaming, 5_000, 'the stream');
    // Once open, the provider asks once for what changed while it was not (a 304 here).
    await until(() => fake.configurationRequests.length === 2, 5_000, 'the request made when the stream opened');
    const changes: EventDetails[] = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (details) => void changes.push(details!));
    const before = fake.configurationRequests.length;
    // The beta segment gains bob: checkout (a rule reads it) changes; nothing else does.
    fake.publish({ ...demoDocument(), segments: [segment('beta', { included: ['ana', 'bob'] })] });
    await until(() => changes.length === 1, 5_000, 'ConfigurationChanged');
    expect(changes[0]!.flagsChanged).toEqual(['checkout']);
    expect(await client.getBooleanDetails('checkout', false, { targetingKey: 'bob' })).toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
    });
    await until(() => fake.configurationRequests.slice(before).some((r) => r.flagConfigEtag !== null), 5_000, 'the refetch');
    const refetch = fake.configurationRequests.slice(before).find((r) => r.flagConfigEtag !== null);
    expect(refetch?.flagConfigEtag).toMatch(/^"v\d+"$/);
    expect(refetch?.ifNoneMatch).toMatch(/^"/);
    expect(refetch?.status).toBe(200);
    // gate's new default changes child too (its prerequisite).
    fake.publish(withFlag(demoDocumentWithBob(), flag('gate')));
    await until(() => changes.length === 2, 5_000, 'the second ConfigurationChanged');
    expect(changes[1]!.flagsChanged).toEqual(['child', 'gate']);
  });

  it('polls with the ETag when there is no stream, and says nothing when nothing changed', async () => {
    const fake = await service(demoDocument(), { stream: false });
    const { client, provider } = await started({ baseUrl: fake.baseUrl, sdkKey: fake.key, pollIntervalMs: 30, ...quick });
    const changes: EventDetails[] = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (details) => void changes.push(details!));
    await until(() => fake.configurationRequests.filter((r) => r.status === 304).length >= 2, 5_000, 'polls answered 304');
    expect(changes).toEqual([]);
    // A new version that changes no answer (a description's edit) is no change either.
    fake.publish({ ...demoDocument(), flags: demoDocument().flags.map((f) => ({ ...f, version: 2 })) }, false);
    const requests = fake.configurationRequests.length;
    await until(() => fake.configurationRequests.slice(requests).some((r) => r.status === 200), 5_000, 'the new document');
    fake.publish(
      withFlag(
        demoDocument(),
        flag('page-size', { type: 'number', variants: [{ key: 'small', value: 10 }], state: { offVariant: 'small' } }),
      ),
      false,
    );
    await until(() => changes.length === 1, 5_000, 'ConfigurationChanged');
    expect(changes[0]!.flagsChanged).toEqual(['page-size']);
    expect(provider.stats().sync.streaming).toBe(false);
  });

  it('keeps answering from its copy while the service is away; STALE after staleAfterMs, READY again once synced', async () => {
    const fake = await service(demoDocument(), { stream: false });
    const { client, provider, log } = await started({
      baseUrl: fake.baseUrl,
      sdkKey: fake.key,
      pollIntervalMs: 20,
      staleAfterMs: 150,
      ...quick,
    });
    const events: string[] = [];
    client.addHandler(ProviderEvents.Stale, () => void events.push('stale'));
    client.addHandler(ProviderEvents.Ready, () => void events.push('ready'));
    // A handler of READY added while ready runs at once.
    expect(events).toEqual(['ready']);
    events.length = 0;
    fake.setDown(true);
    expect(await client.getBooleanDetails('gate', false)).toMatchObject({ value: true, reason: 'STATIC' });
    await until(() => provider.stats().sync.stale, 5_000, 'STALE');
    expect(client.providerStatus).toBe(ProviderStatus.STALE);
    expect(await client.getBooleanDetails('gate', false)).toMatchObject({
      value: true,
      variant: 'on',
      reason: 'STALE',
      flagMetadata: { reason: 'STATIC' },
    });
    expect(await client.getBooleanDetails('checkout', false, { country: 'BR' })).toMatchObject({
      value: true,
      reason: 'STALE',
      flagMetadata: { reason: 'TARGETING_MATCH', ruleId: 'rule-br' },
    });
    expect(log.lines.filter((l) => l.text.includes('could not be read'))).toHaveLength(1);
    fake.setDown(false);
    await until(() => !provider.stats().sync.stale, 5_000, 'synced again');
    await until(() => client.providerStatus === ProviderStatus.READY, 1_000, 'READY');
    expect(events).toEqual(['stale', 'ready']);
    expect(await client.getBooleanDetails('gate', false)).toMatchObject({ reason: 'STATIC' });
  });

  it('an open stream keeps the copy fresh; a dropped stream falls back to polling and reconnects', async () => {
    const fake = await service();
    const { provider } = await started({ baseUrl: fake.baseUrl, sdkKey: fake.key, pollIntervalMs: 40, staleAfterMs: 100, ...quick });
    await until(() => provider.stats().sync.streaming, 5_000, 'the stream');
    const polls = fake.configurationRequests.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(provider.stats().sync.stale).toBe(false);
    // While the stream is open, no polling (one request when it opened, at most).
    expect(fake.configurationRequests.length - polls).toBeLessThanOrEqual(1);
    fake.endStreams();
    await until(() => !provider.stats().sync.streaming, 5_000, 'the stream closed');
    await until(() => provider.stats().sync.streaming, 5_000, 'the stream back');
    expect(fake.streams).toBe(1);
  });
  it('tries a read that failed after a change event again, with back-off, though the stream stays open', async () => {
    const fake = await service();
    const { client, provider } = await started({ baseUrl: fake.baseUrl, sdkKey: fake.key, pollIntervalMs: 60_000, ...quick });
    await until(() => provider.stats().sync.streaming, 5_000, 'the stream');
    await until(() => fake.configurationRequests.length === 2, 5_000, 'the request made when the stream opened');
    const changes: EventDetails[] = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (details) => void changes.push(details!));
    fake.configurationAnswers.push(503, 502);
    fake.publish(demoDocumentWithBob());
    await until(() => changes.length === 1, 5_000, 'ConfigurationChanged');
    expect(fake.configurationRequests.slice(2).map((r) => r.status)).toEqual([503, 502, 200]);
    expect(provider.stats().sync.streaming).toBe(true);
  });

  it('renews an expired stream URL by reading the configuration without If-None-Match, and resumes from the last event id', async () => {
    const fake = await service();
    const { provider } = await started({ baseUrl: fake.baseUrl, sdkKey: fake.key, pollIntervalMs: 60_000, ...quick });
    await until(() => provider.stats().sync.streaming, 5_000, 'the stream');
    fake.rotateToken('new-token');
    fake.endStreams();
    await until(() => fake.streamRequests.some((r) => r.token === 'new-token' && r.status === 200), 5_000, 'the stream with the new token');
    const [first, refused] = fake.streamRequests;
    expect(first).toMatchObject({ token: 'stream-token', status: 200, lastEventId: undefined });
    expect(refused).toMatchObject({ token: 'stream-token', status: 401, lastEventId: '1' });
    expect(
      fake.configurationRequests.some((r) => r.ifNoneMatch === undefined && r.status === 200 && r !== fake.configurationRequests[0]),
    ).toBe(true);
    await until(() => provider.stats().sync.streaming, 5_000, 'streaming again');
  });
});

function demoDocumentWithBob(): ConfigurationDocument {
  return { ...demoDocument(), segments: [segment('beta', { included: ['ana', 'bob'] })] };
}
