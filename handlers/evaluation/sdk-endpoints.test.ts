import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Rule, Segment } from '../../shared/contracts/targeting-model.ts';
import { compileFlag, compileSegment, CompiledFlags, evaluateFlag } from '../../shared/engine/index.ts';
import { createIngestSender } from '../../shared/events/ingest-sender.ts';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import { flagDocument } from '../../shared/testing/flags-client.ts';
import { fixedSdkKeyRecords, fixedSdkKeys } from '../../shared/testing/sdk-keys.ts';
import { until } from '../../shared/testing/until.ts';
import type { FlagConfiguration } from '../../shared/contracts/evaluation-model.ts';
import { evaluationOnCache, type EvaluationApp } from '../testing/evaluation-on-cache.ts';
import { memoryQueue } from '../testing/memory-queue.ts';

const keys = { 'secret-production': 'production', 'public-production': { environment: 'production', kind: 'client' as const } };
const server = { 'x-api-key': 'secret-production' };
const client = { 'x-api-key': 'public-production' };

const segment: Segment = { key: 'beta', name: 'Beta', description: '', conditions: [], included: ['user-1'], excluded: [] };
const rule: Rule = {
  id: 'r-beta',
  flagKey: 'checkout',
  environment: 'production',
  priority: 1,
  name: 'beta testers',
  conditions: [],
  segments: ['beta'],
  serve: { variant: 'on' },
};

interface ConfigurationDocument {
  environment: string;
  flags: FlagConfiguration[];
  segments: Segment[];
  eventStreams?: { type: string; endpoint: { requestUri: string } }[];
}

describe('the endpoints of in-process SDKs', () => {
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
          { variant: 'on', weight: 30 },
          { variant: 'off', weight: 70 },
        ],
      },
    };
    await cache.putFlag(flagDocument('checkout', { environments: { production: split, development: split } }));
    await cache.putFlag(flagDocument('search'));
    await cache.putRules('production', 'checkout', [rule]);
    await cache.putSegment(segment);
    evaluation = await evaluationOnCache(cache, {
      sdkKeys: fixedSdkKeys(keys),
      streamKeys: fixedSdkKeyRecords(keys),
      ingest: createIngestSender(producer, { keySalt: 's', metrics: new Registry() }),
    });
    app = evaluation.app;
  });
  afterAll(() => evaluation.close());
  beforeEach(() => {
    queue.messages.length = 0;
    queue.down = false;
  });

  const configuration = (headers: Record<string, string> = server) => app.inject({ method: 'GET', url: '/sdk/v1/configuration', headers });

  describe('GET /sdk/v1/configuration', () => {
    it('answers the environment as one document the engine compiles to the service’s own answers', async () => {
      const res = await configuration();
      expect(res.statusCode, res.body).toBe(200);
      const document = res.json<ConfigurationDocument>();
      expect(document.environment).toBe('production');
      expect(document.flags.map((f) => f.key)).toEqual(['checkout', 'search']);
      expect(document.flags[0]).toMatchObject({ key: 'checkout', version: 1, rules: [rule], state: { enabled: true } });
      expect(document.segments).toEqual([segment]);
      expect(document.eventStreams?.[0]).toMatchObject({
        type: 'sse',
        endpoint: { requestUri: expect.stringMatching(/^\/ofrep\/v1\/event-stream\?token=/) as unknown },
      });
      // Compiled here, it answers as the service does for every user.
      const segments = new Map(document.segments.map((s) => [s.key, compileSegment(s)]));
      const flags = new CompiledFlags();
      for (const flag of document.flags) flags.set(flag.key, compileFlag(flag));
      for (const targetingKey of ['user-1', 'user-2', 'user-3', 'user-4', 'user-5']) {
        const local = evaluateFlag({ flags, segments }, 'checkout', { targetingKey });
        const remote = await app.inject({
          method: 'POST',
          url: '/evaluate',
          headers: server,
          payload: { flagKey: 'checkout', context: { targetingKey } },
        });
        expect(remote.json()).toEqual(local);
      }
    });

    it('answers 304 to the same ETag, and a new document once the configuration changed', async () => {
      const first = await configuration();
      const etag = first.headers.etag as string;
      const again = await configuration({ ...server, 'if-none-match': etag });
      expect(again.statusCode).toBe(304);
      await cache.putFlag(
        flagDocument('search', {
          version: 2,
          environments: { production: { enabled: true, offVariant: 'off', defaultServe: { variant: 'on' }, prerequisites: [] } },
        }),
      );
      await cache.publish({ kind: 'flag', key: 'search' });
      await until(async () => (await configuration({ ...server, 'if-none-match': etag })).statusCode === 200);
      const changed = await configuration();
      expect(changed.headers.etag).not.toBe(etag);
      expect(changed.json<ConfigurationDocument>().flags.find((f) => f.key === 'search')).toMatchObject({
        version: 2,
        state: { enabled: true },
      });
    });

    it('gives it to server keys only: a client key (public) must never read rules and segments', async () => {
      const res = await configuration(client);
      expect(res.statusCode).toBe(403);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect((await app.inject({ method: 'GET', url: '/sdk/v1/configuration' })).statusCode).toBe(401);
    });
  });

  describe('POST /events/v1/evaluations', () => {
    const report = (payload: object, headers: Record<string, string> = server) =>
      app.inject({ method: 'POST', url: '/events/v1/evaluations', headers, payload });
    const now = Date.now();
    const minute = now - (now % 60_000);

    it('puts them on the events queue in the service’s own message schema, raw events and counts', async () => {
      const res = await report({
        evaluations: [
          { at: now, targetingKey: 'user-1', flagKey: 'checkout', variant: 'on', reason: 'TARGETING_MATCH', ruleId: 'r-beta' },
          { at: now, targetingKey: 'user-2', flagKey: 'checkout', variant: 'off', reason: 'SPLIT' },
          { at: now, flagKey: 'gone', reason: 'ERROR' },
        ],
        counts: [{ minute, flagKey: 'checkout', variant: 'off', reason: 'SPLIT', count: 997 }],
      });
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toMatchObject({ accepted: 1_000 });
      const [message] = queue.messages;
      expect(
        message!.events.map(([flag, env, variant, reason, rule, keyHash, at]) => [flag, env, variant, reason, rule, keyHash !== null, at]),
      ).toEqual([
        ['checkout', 'production', 'on', 'TARGETING_MATCH', 'r-beta', true, now],
        ['checkout', 'production', 'off', 'SPLIT', null, true, now],
        ['gone', 'production', null, 'ERROR', null, false, now],
      ]);
      expect(message!.counts).toEqual([['checkout', 'production', 'off', 'SPLIT', null, minute, 997]]);
    });

    it('splits a large batch into messages under the queue’s size limit, with the same ids whenever it is sent', async () => {
      const evaluations = Array.from({ length: 5_000 }, (_, i) => ({
        at: now - i,
        targetingKey: `a-rather-long-targeting-key-that-compresses-badly-${i}-${Math.random().toString(36)}`,
        flagKey: 'checkout',
        variant: 'off',
        reason: 'SPLIT',
      }));
      const headers = { ...server, 'idempotency-key': 'large-batch-1' };
      expect((await report({ evaluations }, headers)).statusCode).toBe(202);
      const ids = queue.messages.map((m) => m.batchId);
      expect(queue.messages.reduce((n, m) => n + m.events.length, 0)).toBe(5_000);
      queue.messages.length = 0;
      expect((await report({ evaluations }, headers)).statusCode).toBe(202);
      expect(queue.messages.map((m) => m.batchId)).toEqual(ids);
    });

    it('refuses times out of range, unknown reasons, client keys, and answers 503 when the queue refuses', async () => {
      expect((await report({ evaluations: [{ at: now - 8 * 86_400_000, flagKey: 'checkout', reason: 'SPLIT' }] })).statusCode).toBe(400);
      expect((await report({ evaluations: [{ at: now, flagKey: 'checkout', reason: 'STALE' }] })).statusCode).toBe(400);
      expect(
        (await report({ evaluations: [], counts: [{ minute: minute + 1, flagKey: 'x', reason: 'SPLIT', count: 1 }] })).statusCode,
      ).toBe(400);
      expect((await report({ evaluations: [] }, client)).statusCode).toBe(403);
      queue.down = true;
      const refused = await report({ evaluations: [{ at: now, flagKey: 'checkout', reason: 'SPLIT' }] });
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
    });
  });
});
