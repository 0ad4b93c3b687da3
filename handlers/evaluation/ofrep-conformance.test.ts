import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import type { EnvironmentState } from '../../shared/contracts/flag-model.ts';
import type { Rule } from '../../shared/contracts/targeting-model.ts';
import { assertOfrep, type OfrepOperation } from '../../shared/contracts/ofrep/ofrep-conformance.ts';
import { AppError } from '../../shared/http/problem.ts';
import type { SdkKeyVerifier } from '../../shared/http/sdk-keys.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { flagDocument } from '../../shared/testing/flags-client.ts';
import { fixedSdkKeys } from '../../shared/testing/sdk-keys.ts';
import { evaluationOnCache, type EvaluationApp } from '../testing/evaluation-on-cache.ts';

/**
 * Every answer of the two OFREP routes, held to OFREP 0.3.0's own OpenAPI document
 * (shared/contracts/ofrep/openapi.yaml): statuses, bodies, and the absence of a body where it describes none.
 */

const production = { 'x-api-key': 'sdk-production' };
const on = (variant: string): EnvironmentState => ({ enabled: true, offVariant: variant, defaultServe: { variant }, prerequisites: [] });
const everywhere = (state: EnvironmentState) => ({ production: state, development: state });

const flags = [
  // Rules, none matching: the engine's DEFAULT.
  flagDocument('checkout', { environments: everywhere(on('off')) }),
  flagDocument('colour', {
    type: 'string',
    variants: [
      { key: 'blue', value: '#00f' },
      { key: 'green', value: '#0f0' },
    ],
    environments: everywhere({
      ...on('blue'),
      defaultServe: {
        rollout: [
          { variant: 'blue', weight: 50 },
          { variant: 'green', weight: 50 },
        ],
      },
    }),
  }),
  flagDocument('page-size', { type: 'number', variants: [{ key: 'small', value: 10 }], environments: everywhere(on('small')) }),
  flagDocument('ratio', { type: 'number', variants: [{ key: 'quarter', value: 0.25 }], environments: everywhere(on('quarter')) }),
  flagDocument('limits', {
    type: 'json',
    variants: [{ key: 'default', value: { rps: 50, burst: [1, 2] } }],
    environments: everywhere(on('default')),
  }),
  flagDocument('dark-launch', { environments: everywhere({ ...on('off'), enabled: false }) }),
];
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

/** fixedSdkKeys, plus a key the evaluation service may not use (403) and one whose address is flooding (429). */
function sdkKeys(): SdkKeyVerifier {
  const keys = fixedSdkKeys({ 'sdk-production': 'production' });
  return {
    verify(key, client) {
      if (key === 'sdk-forbidden') throw new AppError('FORBIDDEN', 'This key may not evaluate flags');
      if (key === 'sdk-flooding')
        throw new AppError('RATE_LIMITED', 'Too many invalid API keys from this address', { headers: { 'retry-after': '7' } });
      return keys.verify(key, client);
    },
  };
}

describe('OFREP 0.3.0 conformance', () => {
  const cache = createMemoryConfigCache();
  let evaluation: Awaited<ReturnType<typeof evaluationOnCache>>;
  let app: EvaluationApp;

  beforeAll(async () => {
    for (const flag of flags) await cache.putFlag(flag);
    await cache.putRules('production', 'checkout', [brazil]);
    evaluation = await evaluationOnCache(cache, { sdkKeys: sdkKeys() });
    app = evaluation.app;
  });
  afterAll(() => evaluation.close());

  const post = async (operation: OfrepOperation, url: string, payload: unknown, headers: Record<string, string> = production) => {
    // A string is sent as written (JSON unless the headers say otherwise); anything else as JSON.
    const raw = typeof payload === 'string';
    const res = await app.inject({
      method: 'POST',
      url,
      headers: raw ? { 'content-type': 'application/json', ...headers } : headers,
      payload: raw ? payload : (payload as object),
    });
    assertOfrep(operation, res);
    return res;
  };
  const single = (key: string, payload: unknown, headers?: Record<string, string>) =>
    post('evaluateFlag', `/ofrep/v1/evaluate/flags/${key}`, payload, headers);
  const bulk = (payload: unknown, headers?: Record<string, string>) =>
    post('evaluateFlagsBulk', '/ofrep/v1/evaluate/flags', payload, headers);

  it('answers a value of every flag type, and each reason, as the document describes', async () => {
    const context = { targetingKey: 'u1', country: 'BR' };
    const answers = await Promise.all(
      ['checkout', 'colour', 'page-size', 'ratio', 'limits', 'dark-launch'].map((key) => single(key, { context })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers.map((a) => a.json<{ reason: string }>().reason)).toEqual([
      'TARGETING_MATCH',
      'SPLIT',
      'STATIC',
      'STATIC',
      'STATIC',
      'DISABLED',
    ]);
  });

  it("answers the engine's DEFAULT (rules, none matched) as STATIC, keeping DEFAULT in metadata.reason; /evaluate keeps DEFAULT", async () => {
    const res = await single('checkout', { context: { targetingKey: 'u1', country: 'US' } });
    expect(res.json()).toEqual({ key: 'checkout', reason: 'STATIC', variant: 'off', value: false, metadata: { reason: 'DEFAULT' } });
    const flagsOfBulk = (await bulk({ context: { targetingKey: 'u1', country: 'US' } })).json<{
      flags: { key: string; reason: string; metadata?: unknown }[];
    }>().flags;
    expect(flagsOfBulk.find((f) => f.key === 'checkout')).toMatchObject({ reason: 'STATIC', metadata: { reason: 'DEFAULT' } });
    const plain = await app.inject({
      method: 'POST',
      url: '/evaluate',
      headers: production,
      payload: { flagKey: 'checkout', context: { targetingKey: 'u1', country: 'US' } },
    });
    expect(plain.json()).toMatchObject({ reason: 'DEFAULT', variant: 'off' });
  });

  it("answers failures of a single evaluation with 400 or 404 in the document's shapes", async () => {
    expect((await single('colour', { context: { country: 'BR' } })).json()).toMatchObject({
      key: 'colour',
      errorCode: 'TARGETING_KEY_MISSING',
    });
    expect((await single('colour', { context: 'me' })).json()).toMatchObject({ key: 'colour', errorCode: 'INVALID_CONTEXT' });
    expect((await single('colour', '{"context":')).json()).toMatchObject({ key: 'colour', errorCode: 'PARSE_ERROR' });
    expect((await single('nope', { context: {} })).json()).toMatchObject({ key: 'nope', errorCode: 'FLAG_NOT_FOUND' });
  });

  it('answers a body that is not JSON, or too large, with 400 (the document has no 413 or 415)', async () => {
    const text = await single('colour', 'context', { ...production, 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(400);
    expect(text.json()).toMatchObject({ key: 'colour', errorCode: 'PARSE_ERROR' });
    const huge = { context: { targetingKey: 'u1', padding: 'x'.repeat(testConfig().BODY_LIMIT_BYTES) } };
    const tooLarge = await single('colour', huge);
    expect(tooLarge.statusCode).toBe(400);
    expect(tooLarge.json()).toMatchObject({ key: 'colour', errorCode: 'INVALID_CONTEXT' });
    expect((await bulk(huge)).statusCode).toBe(400);
    expect((await bulk('context', { ...production, 'content-type': 'text/plain' })).json()).toMatchObject({ errorCode: 'PARSE_ERROR' });
  });

  it("answers a key that is not a flag key's slug with 404 FLAG_NOT_FOUND, after the SDK key check", async () => {
    const res = await single('Not%20A%20Slug', { context: { targetingKey: 'u1' } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ key: 'Not A Slug', errorCode: 'FLAG_NOT_FOUND' });
    expect((await single('Not%20A%20Slug', { context: {} }, {})).statusCode).toBe(401);
  });

  it("answers a key over 100 characters, even 5,000, with 404 FLAG_NOT_FOUND (not fastify's 414), after the SDK key check", async () => {
    for (const key of ['k'.repeat(101), 'k'.repeat(5_000)]) {
      const res = await single(key, { context: { targetingKey: 'u1' } });
      expect(res.statusCode, `${key.length} characters`).toBe(404);
      expect(res.json()).toMatchObject({ key, errorCode: 'FLAG_NOT_FOUND' });
    }
    expect((await single('k'.repeat(5_000), { context: {} }, {})).statusCode).toBe(401);
  });

  it('answers 401 (with a challenge), 403 and 429 (with Retry-After) without a body, as the document describes them', async () => {
    for (const [headers, status] of [
      [{}, 401],
      [{ 'x-api-key': 'sdk-unknown' }, 401],
      [{ authorization: 'Bearer sdk-forbidden' }, 403],
      [{ 'x-api-key': 'sdk-flooding' }, 429],
    ] as const) {
      for (const res of [await single('checkout', { context: {} }, headers), await bulk({ context: {} }, headers)]) {
        expect(res.statusCode, JSON.stringify(headers)).toBe(status);
        expect(res.body).toBe('');
        if (status === 401) expect(res.headers['www-authenticate']).toBe('Bearer');
        if (status === 429) expect(res.headers['retry-after']).toBe('7');
      }
    }
  });

  it('answers bulk evaluations, partial failures and request failures as the document describes', async () => {
    const ok = await bulk({ context: { targetingKey: 'u1', country: 'BR' } });
    expect(ok.json<{ flags: { key: string }[] }>().flags.map((f) => f.key)).toEqual([
      'checkout',
      'colour',
      'dark-launch',
      'limits',
      'page-size',
      'ratio',
    ]);
    const noKey = await bulk({ context: {} });
    expect(noKey.json<{ flags: { key: string; errorCode?: string }[] }>().flags.find((f) => f.key === 'colour')).toMatchObject({
      errorCode: 'TARGETING_KEY_MISSING',
    });
    expect((await bulk({ context: [] })).json()).toMatchObject({ errorCode: 'INVALID_CONTEXT' });
    expect((await bulk('{')).json()).toMatchObject({ errorCode: 'PARSE_ERROR' });
  });

  it('answers 304 to If-None-Match naming the ETag strongly, weakly (W/), in a list, or as *', async () => {
    const context = { context: { targetingKey: 'u1' } };
    const etag = (await bulk(context)).headers.etag as string;
    expect(etag).toMatch(/^"[^"]+"$/);
    for (const ifNoneMatch of [etag, `W/${etag}`, `"other", W/${etag}`, `W/"other",${etag}`, '*']) {
      const res = await bulk(context, { ...production, 'if-none-match': ifNoneMatch });
      expect(res.statusCode, ifNoneMatch).toBe(304);
      expect(res.headers.etag).toBe(etag);
    }
    for (const ifNoneMatch of ['"other"', `W/"other", "${etag.slice(1, -2)}"`])
      expect((await bulk(context, { ...production, 'if-none-match': ifNoneMatch })).statusCode, ifNoneMatch).toBe(200);
  });
});

describe('OFREP answers for configuration stored before json values had to be objects', () => {
  it('answers a json variant that is not an object as a GENERAL failure, never as a value OFREP cannot carry', async () => {
    const cache = createMemoryConfigCache();
    await cache.putFlag(
      flagDocument('legacy-list', { type: 'json', variants: [{ key: 'list', value: [1, 2] }], environments: everywhere(on('list')) }),
    );
    await cache.putFlag(
      flagDocument('legacy-null', { type: 'json', variants: [{ key: 'none', value: null }], environments: everywhere(on('none')) }),
    );
    const legacy = await evaluationOnCache(cache, { sdkKeys: sdkKeys() });
    const { app } = legacy;
    try {
      for (const key of ['legacy-list', 'legacy-null']) {
        const res = await app.inject({
          method: 'POST',
          url: `/ofrep/v1/evaluate/flags/${key}`,
          headers: production,
          payload: { context: {} },
        });
        assertOfrep('evaluateFlag', res);
        expect(res.statusCode).toBe(400);
        expect(res.json()).toMatchObject({ key, errorCode: 'GENERAL' });
      }
      const all = await app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags', headers: production, payload: { context: {} } });
      assertOfrep('evaluateFlagsBulk', all);
      expect(all.json<{ flags: { errorCode?: string }[] }>().flags.map((f) => f.errorCode)).toEqual(['GENERAL', 'GENERAL']);
      const plain = await app.inject({
        method: 'POST',
        url: '/evaluate',
        headers: production,
        payload: { flagKey: 'legacy-list', context: {} },
      });
      expect(plain.json()).toMatchObject({ value: [1, 2] });
    } finally {
      await legacy.close();
    }
  });
});
