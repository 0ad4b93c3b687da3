import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import { flagDocument } from '../../shared/testing/flags-client.ts';
import { fixedSdkKeys } from '../../shared/testing/sdk-keys.ts';
import { evaluationOnCache, type EvaluationApp } from '../testing/evaluation-on-cache.ts';

/** What a page on another origin needs from evaluation: CORS for the allowed origins, and for no one else. */
describe('evaluation from a browser', () => {
  const cache = createMemoryConfigCache();
  let open: Awaited<ReturnType<typeof evaluationOnCache>>;
  let closed: Awaited<ReturnType<typeof evaluationOnCache>>;
  let app: EvaluationApp;

  beforeAll(async () => {
    await cache.putFlag(flagDocument('new-header', { clientVisible: true }));
    const sdkKeys = fixedSdkKeys({ 'public-production': { environment: 'production', kind: 'client' } });
    open = await evaluationOnCache(cache, {
      sdkKeys,
      config: { CORS_ALLOWED_ORIGINS: 'https://shop.example.com, https://admin.example.com' },
    });
    closed = await evaluationOnCache(cache, { sdkKeys });
    app = open.app;
  });
  afterAll(async () => {
    await open.close();
    await closed.close();
  });

  const preflight = (target: EvaluationApp, origin: string) =>
    target.inject({
      method: 'OPTIONS',
      url: '/ofrep/v1/evaluate/flags',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-api-key,if-none-match',
      },
    });

  it('answers the preflight of an allowed origin with the headers OFREP requests use, and never allows credentials', async () => {
    const res = await preflight(app, 'https://shop.example.com');
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://shop.example.com');
    expect(String(res.headers['access-control-allow-headers'])).toContain('if-none-match');
    expect(String(res.headers['access-control-allow-headers'])).toContain('x-api-key');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    const answer = await app.inject({
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags',
      headers: { origin: 'https://shop.example.com', 'x-api-key': 'public-production' },
      payload: { context: { targetingKey: 'u1' } },
    });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe('https://shop.example.com');
    // The page can read the ETag, to send it back as If-None-Match.
    expect(String(answer.headers['access-control-expose-headers'])).toContain('etag');
  });

  it('gives no other origin, and no origin at all when none is configured, leave to read an answer', async () => {
    expect((await preflight(app, 'https://evil.example.net')).headers['access-control-allow-origin']).toBeUndefined();
    expect((await preflight(closed.app, 'https://shop.example.com')).headers['access-control-allow-origin']).toBeUndefined();
  });
});
