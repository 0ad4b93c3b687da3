import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SdkKeyKind, SdkKeyRecord } from '../../shared/contracts/access-model.ts';
import type { FlagConfiguration } from '../../shared/contracts/evaluation-model.ts';
import type { Rule, Segment } from '../../shared/contracts/targeting-model.ts';
import { createIngestSender } from '../../shared/events/ingest-sender.ts';
import { createSdkKeyVerifier, hashSdkKey } from '../../shared/http/sdk-keys.ts';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import { flagDocument } from '../../shared/testing/flags-client.ts';
import { until } from '../../shared/testing/until.ts';
import { evaluationOnCache, type EvaluationApp } from '../testing/evaluation-on-cache.ts';
import { memoryQueue } from '../testing/memory-queue.ts';

/** Keys of three projects in one environment (the default project's record has no project, as before projects). */
const keyOf = (key: string, kind: SdkKeyKind, project?: string): SdkKeyRecord => ({
  id: `id-${key}`,
  hash: hashSdkKey(key),
  environment: 'production',
  kind,
  revoked: false,
  ...(project ? { project } : {}),
});
const records = [
  keyOf('sdk-alpha', 'server', 'alpha'),
  keyOf('sdk-alpha-public', 'client', 'alpha'),
  keyOf('sdk-beta', 'server', 'beta'),
  keyOf('sdk-default', 'server'),
  keyOf('sdk-gamma', 'server', 'gamma'),
  keyOf('sdk-delta', 'server', 'delta'),
];
const sdkKeys = createSdkKeyVerifier({ access: { loaded: true, sdkKey: (hash) => records.find((r) => r.hash === hash) } });
const alpha = { 'x-api-key': 'sdk-alpha' };
const alphaPublic = { 'x-api-key': 'sdk-alpha-public' };
const beta = { 'x-api-key': 'sdk-beta' };
const byDefault = { 'x-api-key': 'sdk-default' };

const segment = (key: string, project?: string): Segment => ({
  key,
  ...(project ? { project } : {}),
  name: key,
  description: '',
  conditions: [],
  included: ['user-1'],
  excluded: [],
});
const ruleOf = (flagKey: string, segmentKey: string): Rule => ({
  id: `rule-${flagKey}`,
  flagKey,
  environment: 'production',
  priority: 0,
  name: 'members',
  conditions: [],
  segments: [segmentKey],
  serve: { variant: 'on' },
});

interface ConfigurationDocument {
  flags: FlagConfiguration[];
  segments: Segment[];
}

describe('evaluation scoped to the SDK key’s project', () => {
  const cache = createMemoryConfigCache();
  const { queue, producer } = memoryQueue();
  let evaluation: Awaited<ReturnType<typeof evaluationOnCache>>;
  let app: EvaluationApp;

  beforeAll(async () => {
    // `checkout` was published before projects (no project: the default project's).
    await cache.putFlag(flagDocument('checkout'));
    await cache.putFlag(flagDocument('pay-a', { project: 'alpha', clientVisible: true }));
    await cache.putFlag(flagDocument('pay-b', { project: 'beta', clientVisible: true }));
    await cache.putSegment(segment('alpha-testers', 'alpha'));
    await cache.putSegment(segment('beta-testers', 'beta'));
    // Written before projects: the default project's.
    await cache.putSegment(segment('staff'));
    await cache.putRules('production', 'pay-a', [ruleOf('pay-a', 'alpha-testers')]);
    await cache.putRules('production', 'pay-b', [ruleOf('pay-b', 'beta-testers')]);
    evaluation = await evaluationOnCache(cache, {
      sdkKeys,
      streamKeys: records,
      ingest: createIngestSender(producer, { keySalt: 's', metrics: new Registry() }),
    });
    app = evaluation.app;
  });
  afterAll(() => evaluation.close());
  beforeEach(() => {
    queue.messages.length = 0;
  });

  const post = (url: string, headers: Record<string, string>, payload: object) => app.inject({ method: 'POST', url, headers, payload });
  const keysOf = (res: { json: <T>() => T }) => res.json<{ flags: { key: string }[] }>().flags.map((f) => f.key);

  it('answers another project’s flag exactly as an unknown flag, on OFREP and on /evaluate', async () => {
    const context = { context: { targetingKey: 'user-1' } };
    const own = await post('/ofrep/v1/evaluate/flags/pay-a', alpha, context);
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json()).toMatchObject({ key: 'pay-a', variant: 'on', reason: 'TARGETING_MATCH' });
    const other = await post('/ofrep/v1/evaluate/flags/pay-b', alpha, context);
    const unknown = await post('/ofrep/v1/evaluate/flags/pay-z', alpha, context);
    expect(other.statusCode).toBe(404);
    expect(other.json()).toEqual({ ...unknown.json<object>(), key: 'pay-b', errorDetails: 'no flag "pay-b" in this environment' });
    // A client key of alpha: beta's client-visible flag is not found either.
    expect((await post('/ofrep/v1/evaluate/flags/pay-b', alphaPublic, context)).statusCode).toBe(404);
    expect((await post('/ofrep/v1/evaluate/flags/pay-a', alphaPublic, context)).statusCode).toBe(200);
    // The default project's key sees only the default project's flags.
    expect((await post('/ofrep/v1/evaluate/flags/checkout', byDefault, context)).statusCode).toBe(200);
    expect((await post('/ofrep/v1/evaluate/flags/pay-a', byDefault, context)).statusCode).toBe(404);
    expect((await post('/ofrep/v1/evaluate/flags/checkout', alpha, context)).statusCode).toBe(404);

    const legacy = await post('/evaluate', alpha, { flagKey: 'pay-b', context: { targetingKey: 'user-1' } });
    const legacyUnknown = await post('/evaluate', alpha, { flagKey: 'pay-z', context: { targetingKey: 'user-1' } });
    expect(legacy.statusCode).toBe(404);
    expect(legacy.json<{ detail: string }>().detail).toBe(legacyUnknown.json<{ detail: string }>().detail.replace('pay-z', 'pay-b'));
    const typed = await post('/evaluate', beta, { flagKey: 'pay-b', type: 'boolean', context: { targetingKey: 'user-1' } });
    expect(typed.json()).toMatchObject({ flagKey: 'pay-b', variant: 'on' });
  });

  it('evaluates in bulk only the key’s project’s flags, with ETags no other project shares', async () => {
    const context = { context: { targetingKey: 'user-1' } };
    const ofAlpha = await post('/ofrep/v1/evaluate/flags', alpha, context);
    const ofBeta = await post('/ofrep/v1/evaluate/flags', beta, context);
    const ofDefault = await post('/ofrep/v1/evaluate/flags', byDefault, context);
    expect(keysOf(ofAlpha)).toEqual(['pay-a']);
    expect(keysOf(ofBeta)).toEqual(['pay-b']);
    expect(keysOf(ofDefault)).toEqual(['checkout']);
    expect(keysOf(await post('/ofrep/v1/evaluate/flags', alphaPublic, context))).toEqual(['pay-a']);
    expect(new Set([ofAlpha.headers.etag, ofBeta.headers.etag, ofDefault.headers.etag]).size).toBe(3);
    // One key's ETag is never a 304 for another project's key.
    const crossed = await post('/ofrep/v1/evaluate/flags', { ...beta, 'if-none-match': ofAlpha.headers.etag as string }, context);
    expect(crossed.statusCode).toBe(200);
    expect(
      (await post('/ofrep/v1/evaluate/flags', { ...alpha, 'if-none-match': ofAlpha.headers.etag as string }, context)).statusCode,
    ).toBe(304);

    // Two projects with no flags answer the same body, yet never the same ETag (a shared cache keeps them apart).
    const gamma = await post('/ofrep/v1/evaluate/flags', { 'x-api-key': 'sdk-gamma' }, context);
    const delta = await post('/ofrep/v1/evaluate/flags', { 'x-api-key': 'sdk-delta' }, context);
    expect(keysOf(gamma)).toEqual([]);
    expect(keysOf(delta)).toEqual([]);
    expect(gamma.headers.etag).not.toBe(delta.headers.etag);

    const legacy = await app.inject({ method: 'GET', url: '/evaluate/bulk?targetingKey=user-1', headers: alpha });
    expect(legacy.json<{ flags: { flagKey: string }[] }>().flags.map((f) => f.flagKey)).toEqual(['pay-a']);
  });

  it('gives an in-process SDK its project’s flags and segments, nothing of other projects', async () => {
    const configuration = (headers: Record<string, string>) => app.inject({ method: 'GET', url: '/sdk/v1/configuration', headers });
    const ofAlpha = await configuration(alpha);
    expect(ofAlpha.statusCode, ofAlpha.body).toBe(200);
    const document = ofAlpha.json<ConfigurationDocument>();
    expect(document.flags.map((f) => f.key)).toEqual(['pay-a']);
    expect(document.segments.map((s) => s.key)).toEqual(['alpha-testers']);
    // The document's format is as it was: its flags are not labelled with a project.
    expect(document.flags[0]).not.toHaveProperty('project');
    expect(ofAlpha.body).not.toContain('pay-b');
    expect(ofAlpha.body).not.toContain('beta-testers');
    const ofDefault = await configuration(byDefault);
    expect(ofDefault.json<ConfigurationDocument>().flags.map((f) => f.key)).toEqual(['checkout']);
    expect(ofDefault.json<ConfigurationDocument>().segments.map((s) => s.key)).toEqual(['staff']);
    const ofGamma = await configuration({ 'x-api-key': 'sdk-gamma' });
    const ofDelta = await configuration({ 'x-api-key': 'sdk-delta' });
    expect(ofGamma.headers.etag).not.toBe(ofDelta.headers.etag);
    expect((await configuration({ ...beta, 'if-none-match': ofAlpha.headers.etag as string })).statusCode).toBe(200);
    expect((await configuration({ ...alpha, 'if-none-match': ofAlpha.headers.etag as string })).statusCode).toBe(304);
  });

  it('refuses metric events of another project’s flag as of an unknown one', async () => {
    const track = (headers: Record<string, string>, events: object[]) => post('/events/v1/track', headers, { events });
    const other = await track(alpha, [{ name: 'clicks', flagKey: 'pay-b', context: { targetingKey: 'user-1' } }]);
    expect(other.statusCode).toBe(400);
    const withVariant = await track(alpha, [{ name: 'clicks', flagKey: 'pay-b', variant: 'on' }]);
    expect(withVariant.statusCode).toBe(400);
    expect(withVariant.json<{ errors: { path: string }[] }>().errors).toEqual([
      expect.objectContaining({ path: '/events/0/flagKey', message: 'no flag "pay-b" in production' }),
    ]);
    expect(queue.messages).toEqual([]);
    const own = await track(alpha, [{ name: 'clicks', flagKey: 'pay-a', context: { targetingKey: 'user-1' } }]);
    expect(own.statusCode, own.body).toBe(202);
    expect(queue.messages.flatMap((m) => m.metrics.map(([flagKey]) => flagKey))).toEqual(['pay-a']);
  });

  it('does not count reported evaluations of another project’s flags', async () => {
    const now = Date.now();
    const minute = now - (now % 60_000);
    const res = await post('/events/v1/evaluations', alpha, {
      evaluations: [
        { at: now, targetingKey: 'user-1', flagKey: 'pay-a', variant: 'on', reason: 'TARGETING_MATCH' },
        { at: now, targetingKey: 'user-1', flagKey: 'pay-b', variant: 'on', reason: 'TARGETING_MATCH' },
        { at: now, flagKey: 'gone', reason: 'ERROR' },
      ],
      counts: [
        { minute, flagKey: 'pay-b', variant: 'on', reason: 'TARGETING_MATCH', count: 5 },
        { minute, flagKey: 'pay-a', variant: 'on', reason: 'TARGETING_MATCH', count: 7 },
      ],
    });
    expect(res.statusCode, res.body).toBe(202);
    // Answered as if all were taken: the answer tells nothing of which keys are another project's flags.
    expect(res.json()).toMatchObject({ accepted: 15 });
    const [message] = queue.messages;
    expect(message!.events.map(([flagKey]) => flagKey)).toEqual(['pay-a', 'gone']);
    expect(message!.counts.map(([flagKey, , , , , , count]) => [flagKey, count])).toEqual([['pay-a', 7]]);
  });

  it('wakes a stream for its own project’s changes, not for another project’s', async () => {
    const heard: [string, string | undefined][] = [];
    const stop = evaluation.replica.versions.onChange((environment, _version, project) => heard.push([environment, project]));
    const before = evaluation.replica.versions.current('production', 'alpha').id;
    await cache.putFlag(flagDocument('pay-b', { project: 'beta', clientVisible: true, version: 2, description: 'changed' }));
    await cache.putRules('production', 'pay-b', [{ ...ruleOf('pay-b', 'beta-testers'), serve: { variant: 'off' } }]);
    await cache.publish({ kind: 'rules', environment: 'production', flagKey: 'pay-b' });
    await until(async () => heard.length > 0);
    expect(heard).toEqual([['production', 'beta']]);
    expect(evaluation.replica.versions.current('production', 'alpha').id).toBe(before);
    expect(evaluation.replica.versions.current('production', 'beta').id).not.toBe(before);
    // A segment is its project's: only that project's callers hear of it.
    await cache.putSegment({ ...segment('alpha-testers', 'alpha'), included: ['user-2'] });
    await cache.publish({ kind: 'segment', key: 'alpha-testers' });
    await until(async () => heard.length > 1);
    expect(heard[1]).toEqual(['production', 'alpha']);
    // A reload may have missed anything: every project's callers hear of it.
    await cache.publish({ kind: 'reseeded', owner: 'targeting' });
    await until(async () => heard.length > 2);
    expect(heard[2]).toEqual(['production', undefined]);
    stop();
  });
});
