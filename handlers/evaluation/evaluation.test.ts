import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import type { ConfigCache } from '../../shared/propagation/config-cache.ts';
import { assertOfrep, type OfrepOperation } from '../../shared/contracts/ofrep/ofrep-conformance.ts';
import type { Rule } from '../../shared/contracts/targeting-model.ts';
import { fixedSdkKeys } from '../../shared/testing/sdk-keys.ts';
import { flagDocument } from '../../shared/testing/flags-client.ts';
import { evaluationOnCache, type EvaluationApp } from '../testing/evaluation-on-cache.ts';

const production = { 'x-api-key': 'sdk-production' };

const banner = flagDocument('banner', {
  type: 'string',
  variants: [
    { key: 'blue', value: '#00f' },
    { key: 'green', value: '#0f0' },
  ],
  environments: {
    production: {
      enabled: true,
      offVariant: 'blue',
      defaultServe: {
        rollout: [
          { variant: 'blue', weight: 50 },
          { variant: 'green', weight: 50 },
        ],
      },
      prerequisites: [],
    },
    development: { enabled: false, offVariant: 'blue', defaultServe: { variant: 'green' }, prerequisites: [] },
  },
});
const checkout = flagDocument('checkout', {
  environments: { production: { enabled: true, offVariant: 'off', defaultServe: { variant: 'off' }, prerequisites: [] } },
});
const brazil: Rule = {
  id: '11111111-1111-4111-8111-111111111111',
  flagKey: 'checkout',
  environment: 'production',
  priority: 0,
  name: 'Brazil',
  conditions: [{ attribute: 'country', operator: 'eq', values: ['BR'] }],
  segments: [],
  serve: { variant: 'on' },
};

async function seeded(cache: ConfigCache) {
  await cache.putFlag(banner);
  await cache.putFlag(checkout);
  await cache.putRules('production', 'checkout', [brazil]);
  await cache.markSeeded('flags');
  await cache.markSeeded('targeting');
}

describe('evaluation API', () => {
  const cache = createMemoryConfigCache();
  let evaluation: Awaited<ReturnType<typeof evaluationOnCache>>;
  let app: EvaluationApp;

  beforeAll(async () => {
    await seeded(cache);
    // The owning services are not there: everything must come from the cache.
    evaluation = await evaluationOnCache(cache, {
      sdkKeys: fixedSdkKeys({ 'sdk-production': 'production', 'sdk-development': 'development' }),
    });
    app = evaluation.app;
  });
  afterAll(() => evaluation.close());

  /** An OFREP request whose answer must be one OFREP 0.3.0's document describes. */
  const ofrep = async (
    operation: OfrepOperation,
    request: { method: 'POST'; url: string; headers: Record<string, string>; payload: string | object },
  ) => {
    const res = await app.inject(request);
    assertOfrep(operation, res);
    return res;
  };

  it("evaluates one flag with POST /evaluate in the SDK key's environment", async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/evaluate',
      headers: production,
      payload: { flagKey: 'checkout', context: { targetingKey: 'u1', country: 'BR' } },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ flagKey: 'checkout', value: true, variant: 'on', reason: 'TARGETING_MATCH', ruleId: brazil.id });
    const dev = await app.inject({
      method: 'POST',
      url: '/evaluate',
      headers: { authorization: 'Bearer sdk-development' },
      payload: { flagKey: 'banner', context: { targetingKey: 'u1' } },
    });
    expect(dev.json()).toMatchObject({ variant: 'blue', reason: 'DISABLED' });
  });

  it('evaluates every flag with GET /evaluate/bulk, the context in the query', async () => {
    const res = await app.inject({ method: 'GET', url: '/evaluate/bulk?targetingKey=u1&country=BR', headers: production });
    expect(res.statusCode).toBe(200);
    const flags = res.json<{ flags: { flagKey: string; reason: string }[] }>().flags;
    expect(flags.map((f) => [f.flagKey, f.reason])).toEqual([
      ['banner', 'SPLIT'],
      ['checkout', 'TARGETING_MATCH'],
    ]);
  });

  it('answers OFREP single evaluations, their errors in OFREP shape', async () => {
    const ok = await ofrep('evaluateFlag', {
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags/checkout',
      headers: production,
      payload: { context: { targetingKey: 'u1', country: 'BR' } },
    });
    expect(ok.json()).toEqual({ key: 'checkout', reason: 'TARGETING_MATCH', variant: 'on', value: true, metadata: { ruleId: brazil.id } });
    const missing = await ofrep('evaluateFlag', {
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags/nope',
      headers: production,
      payload: { context: {} },
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ key: 'nope', errorCode: 'FLAG_NOT_FOUND' });
    const noKey = await ofrep('evaluateFlag', {
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags/banner',
      headers: production,
      payload: { context: { country: 'BR' } },
    });
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json()).toMatchObject({ key: 'banner', errorCode: 'TARGETING_KEY_MISSING' });
    const badContext = await ofrep('evaluateFlag', {
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags/banner',
      headers: production,
      payload: { context: 'me' },
    });
    expect(badContext.statusCode).toBe(400);
    expect(badContext.json()).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
    const badKeyType = await ofrep('evaluateFlag', {
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags/banner',
      headers: production,
      payload: { context: { targetingKey: 42 } },
    });
    expect(badKeyType.json()).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
    const notJson = await ofrep('evaluateFlag', {
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags/banner',
      headers: { ...production, 'content-type': 'application/json' },
      payload: '{"context":',
    });
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json()).toMatchObject({ errorCode: 'PARSE_ERROR' });
  });

  it('answers OFREP bulk evaluations with an ETag covering configuration and context, and 304 when unchanged', async () => {
    const first = await ofrep('evaluateFlagsBulk', {
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags',
      headers: production,
      payload: { context: { targetingKey: 'u1', country: 'BR' } },
    });
    expect(first.statusCode).toBe(200);
    const etag = first.headers.etag as string;
    expect(first.json<{ flags: { key: string }[] }>().flags.map((f) => f.key)).toEqual(['banner', 'checkout']);
    const again = await ofrep('evaluateFlagsBulk', {
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags',
      headers: { ...production, 'if-none-match': etag },
      payload: { context: { targetingKey: 'u1', country: 'BR' } },
    });
    expect(again.statusCode).toBe(304);
    const otherContext = await ofrep('evaluateFlagsBulk', {
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags',
      headers: { ...production, 'if-none-match': etag },
      payload: { context: { targetingKey: 'u1', country: 'US' } },
    });
    expect(otherContext.statusCode).toBe(200);
    expect(otherContext.headers.etag).not.toBe(etag);

    // A configuration change makes the same context's ETag change.
    await cache.putRules('production', 'checkout', [{ ...brazil, serve: { variant: 'off' } }]);
    await cache.publish({ kind: 'rules', environment: 'production', flagKey: 'checkout' });
    await new Promise((r) => setTimeout(r, 50));
    const changed = await ofrep('evaluateFlagsBulk', {
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags',
      headers: { ...production, 'if-none-match': etag },
      payload: { context: { targetingKey: 'u1', country: 'BR' } },
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json<{ flags: { key: string; variant: string }[] }>().flags.find((f) => f.key === 'checkout')?.variant).toBe('off');
  });

  it('refuses requests without a valid SDK key, and 404s an unknown flag on /evaluate', async () => {
    expect((await app.inject({ method: 'POST', url: '/evaluate', payload: { flagKey: 'checkout', context: {} } })).statusCode).toBe(401);
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/evaluate',
          headers: { 'x-api-key': 'sdk-revoked' },
          payload: { flagKey: 'checkout', context: {} },
        })
      ).statusCode,
    ).toBe(401);
    const missing = await app.inject({ method: 'POST', url: '/evaluate', headers: production, payload: { flagKey: 'nope', context: {} } });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    const mismatch = await app.inject({
      method: 'POST',
      url: '/evaluate',
      headers: production,
      payload: { flagKey: 'checkout', type: 'number', context: {} },
    });
    expect(mismatch.json()).toMatchObject({ reason: 'ERROR', errorCode: 'TYPE_MISMATCH' });
    const extra = await app.inject({
      method: 'POST',
      url: '/evaluate',
      headers: production,
      payload: { flagKey: 'checkout', context: {}, debug: true },
    });
    expect(extra.statusCode).toBe(400);
  });

  it('drops a deleted flag and picks up a new one as soon as the change is published', async () => {
    await cache.removeFlag('banner');
    await cache.putFlag(flagDocument('fresh'));
    await cache.publish({ kind: 'flag', key: 'banner' });
    await cache.publish({ kind: 'flag', key: 'fresh' });
    await new Promise((r) => setTimeout(r, 50));
    const res = await app.inject({ method: 'GET', url: '/evaluate/bulk?targetingKey=u1', headers: production });
    expect(res.json<{ flags: { flagKey: string }[] }>().flags.map((f) => f.flagKey)).toEqual(['checkout', 'fresh']);
  });
});
