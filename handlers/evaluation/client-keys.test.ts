import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertOfrep } from '../../shared/contracts/ofrep/ofrep-conformance.ts';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import { flagDocument } from '../../shared/testing/flags-client.ts';
import { fixedSdkKeys } from '../../shared/testing/sdk-keys.ts';
import { evaluationOnCache, type EvaluationApp } from '../testing/evaluation-on-cache.ts';

const client = { 'x-api-key': 'public-production' };
const server = { 'x-api-key': 'secret-production' };

describe('a client key (public, in a web page)', () => {
  const cache = createMemoryConfigCache();
  let evaluation: Awaited<ReturnType<typeof evaluationOnCache>>;
  let app: EvaluationApp;

  beforeAll(async () => {
    await cache.putFlag(flagDocument('new-header', { clientVisible: true }));
    await cache.putFlag(flagDocument('internal-pricing'));
    // Client-visible, and it depends on a hidden flag: its answer may use it, the caller may not see it.
    await cache.putFlag(
      flagDocument('checkout-v2', {
        clientVisible: true,
        environments: {
          production: {
            enabled: true,
            offVariant: 'off',
            defaultServe: { variant: 'on' },
            prerequisites: [{ flagKey: 'internal-pricing', variant: 'off' }],
          },
        },
      }),
    );
    evaluation = await evaluationOnCache(cache, {
      sdkKeys: fixedSdkKeys({ 'public-production': { environment: 'production', kind: 'client' }, 'secret-production': 'production' }),
    });
    app = evaluation.app;
  });
  afterAll(() => evaluation.close());

  const bulk = (headers: Record<string, string>) =>
    app.inject({ method: 'POST', url: '/ofrep/v1/evaluate/flags', headers, payload: { context: { targetingKey: 'u1' } } });

  it('evaluates only the client-visible flags in bulk; a hidden flag they depend on still decides their answer', async () => {
    const res = await bulk(client);
    assertOfrep('evaluateFlagsBulk', res);
    const flags = res.json<{ flags: { key: string; value: unknown }[] }>().flags;
    expect(flags.map((f) => f.key)).toEqual(['checkout-v2', 'new-header']);
    expect(flags.find((f) => f.key === 'checkout-v2')?.value).toBe(true);
    const all = (await bulk(server)).json<{ flags: { key: string }[] }>().flags;
    expect(all.map((f) => f.key)).toEqual(['checkout-v2', 'internal-pricing', 'new-header']);
  });

  it('finds a hidden flag exactly as it finds a missing one: FLAG_NOT_FOUND', async () => {
    const one = (key: string, headers: Record<string, string>) =>
      app.inject({ method: 'POST', url: `/ofrep/v1/evaluate/flags/${key}`, headers, payload: { context: { targetingKey: 'u1' } } });
    const hidden = await one('internal-pricing', client);
    const missing = await one('no-such-flag', client);
    assertOfrep('evaluateFlag', hidden);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json()).toEqual({
      ...missing.json(),
      key: 'internal-pricing',
      errorDetails: (missing.json<{ errorDetails: string }>().errorDetails ?? '').replace('no-such-flag', 'internal-pricing'),
    });
    expect((await one('new-header', client)).statusCode).toBe(200);
    expect((await one('internal-pricing', server)).statusCode).toBe(200);
  });

  it("is refused by ToggleMaster's own evaluation API, which a server key uses", async () => {
    const requests = [
      { method: 'POST', url: '/evaluate', payload: { flagKey: 'new-header', context: {} } },
      { method: 'GET', url: '/evaluate/bulk?targetingKey=u1' },
    ] as const;
    for (const request of requests) {
      const res = await app.inject({ ...request, headers: client });
      expect(res.statusCode, request.url).toBe(403);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect((await app.inject({ ...request, headers: server })).statusCode, request.url).toBe(200);
    }
  });
});
