import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createLogger } from '../../shared/logging/logger.ts';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { flagDocument } from '../../shared/testing/flags-client.ts';
import { fixedSdkKeys } from '../../shared/testing/sdk-keys.ts';
import { createConfigurationReplica } from './configuration-replica.ts';
import { buildEvaluationApp } from './evaluation-app.ts';

/** What a page on another origin needs from evaluation: CORS for the allowed origins, and for no one else. */
describe('evaluation from a browser', () => {
  const cache = createMemoryConfigCache();
  let app: Awaited<ReturnType<typeof buildEvaluationApp>>['app'];
  let closed: Awaited<ReturnType<typeof buildEvaluationApp>>['app'];
  let stopReplica: () => Promise<void>;

  beforeAll(async () => {
    await cache.putFlag(flagDocument('new-header', { clientVisible: true }));
    await cache.markSeeded('flags');
    await cache.markSeeded('targeting');
    const logger = createLogger('silent', 'evaluation');
    const replica = createConfigurationReplica({ cache, logger, metrics: new Registry() });
    await replica.start();
    stopReplica = () => replica.stop();
    const sdkKeys = fixedSdkKeys({ 'public-production': { environment: 'production', kind: 'client' } });
    const build = (origins: string | undefined) =>
      buildEvaluationApp({ config: testConfig(origins ? { CORS_ALLOWED_ORIGINS: origins } : {}), logger, replica, cache, sdkKeys });
    ({ app } = await build('https://shop.example.com, https://admin.example.com'));
    ({ app: closed } = await build(undefined));
  });
  afterAll(async () => {
    await app.close();
    await closed.close();
    await stopReplica();
  });

  const preflight = (target: typeof app, origin: string) =>
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
    expect((await preflight(closed, 'https://shop.example.com')).headers['access-control-allow-origin']).toBeUndefined();
  });
});
