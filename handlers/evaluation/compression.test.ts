import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import { flagDocument } from '../../shared/testing/flags-client.ts';
import { fixedSdkKeys } from '../../shared/testing/sdk-keys.ts';
import { evaluationOnCache, type EvaluationApp } from '../testing/evaluation-on-cache.ts';

/** Negotiated compression of the large answers: the same JSON, the 304 still working, CORS as browsers need it. */
describe('compressed answers', () => {
  const cache = createMemoryConfigCache();
  let evaluation: Awaited<ReturnType<typeof evaluationOnCache>>;
  let app: EvaluationApp;
  const origin = 'https://shop.example.com';
  const client = { 'x-api-key': 'public-production', origin };
  const server = { 'x-api-key': 'secret-production' };
  const context = { targetingKey: 'user-1' };

  beforeAll(async () => {
    // 40 flags: a bulk answer of ~3 KB, above the 1 KB threshold.
    for (let i = 0; i < 40; i++) await cache.putFlag(flagDocument(`flag-${String(i).padStart(2, '0')}`, { clientVisible: true }));
    await cache.putFlag(flagDocument('zz-hidden'));
    evaluation = await evaluationOnCache(cache, {
      sdkKeys: fixedSdkKeys({ 'public-production': { environment: 'production', kind: 'client' }, 'secret-production': 'production' }),
      config: { CORS_ALLOWED_ORIGINS: origin },
    });
    app = evaluation.app;
  });
  afterAll(() => evaluation.close());

  const bulk = (headers: Record<string, string | undefined>, body: unknown = { context }) =>
    app.inject({
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags',
      headers: { ...client, ...headers } as Record<string, string>,
      payload: body as object,
    });

  it('sends the bulk answer as it is without Accept-Encoding (or with none acceptable), varying by Accept-Encoding', async () => {
    for (const headers of [{}, { 'accept-encoding': 'identity' }, { 'accept-encoding': 'br;q=0, gzip;q=0' }]) {
      const res = await bulk(headers);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.headers.etag).toMatch(/^"[^"]+"$/);
      expect(String(res.headers.vary)).toMatch(/accept-encoding/i);
      expect(res.json<{ flags: unknown[] }>().flags).toHaveLength(40);
    }
  });

  it('compresses it with brotli or gzip as negotiated, to the same JSON, under the same ETag made weak', async () => {
    const plain = await bulk({});
    for (const [acceptEncoding, coding] of [
      ['gzip, deflate, br, zstd', 'br'],
      ['gzip, deflate', 'gzip'],
      ['br;q=0.5, gzip', 'gzip'],
      ['*', 'br'],
    ] as const) {
      const res = await bulk({ 'accept-encoding': acceptEncoding });
      expect(res.statusCode, acceptEncoding).toBe(200);
      expect(res.headers['content-encoding'], acceptEncoding).toBe(coding);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const decoded = (coding === 'br' ? brotliDecompressSync : gunzipSync)(res.rawPayload).toString('utf8');
      expect(decoded).toBe(plain.body);
      expect(res.rawPayload.length).toBeLessThan(plain.rawPayload.length / 2);
      expect(res.headers.etag).toBe(`W/${plain.headers.etag}`);
      // A second identical answer is the same bytes (made once and kept by its ETag).
      expect((await bulk({ 'accept-encoding': acceptEncoding })).rawPayload.equals(res.rawPayload)).toBe(true);
    }
  });

  it('answers 304 to If-None-Match with either form of the ETag, whatever encoding is asked now', async () => {
    const plain = await bulk({});
    const compressed = await bulk({ 'accept-encoding': 'br' });
    for (const etag of [plain.headers.etag as string, compressed.headers.etag as string]) {
      for (const headers of [{}, { 'accept-encoding': 'gzip, br' }]) {
        const res = await bulk({ ...headers, 'if-none-match': etag });
        expect(res.statusCode, `${etag} ${JSON.stringify(headers)}`).toBe(304);
        expect(res.body).toBe('');
        expect(String(res.headers.vary)).toMatch(/accept-encoding/i);
        // The 304 names the ETag of the representation it stands for.
        expect(res.headers.etag).toBe('accept-encoding' in headers ? compressed.headers.etag : plain.headers.etag);
      }
    }
  });

  it('lets a page of an allowed origin read the ETag of a compressed answer, Vary keeping Origin', async () => {
    const res = await bulk({ 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(res.headers['access-control-allow-origin']).toBe(origin);
    expect(String(res.headers['access-control-expose-headers'])).toContain('etag');
    expect(
      String(res.headers.vary)
        .toLowerCase()
        .split(/\s*,\s*/),
    ).toEqual(expect.arrayContaining(['origin', 'accept-encoding']));
  });

  it('leaves a small answer uncompressed, with a strong ETag', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags/flag-00',
      headers: { ...client, 'accept-encoding': 'br' },
      payload: { context },
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-encoding']).toBeUndefined();
  });

  it('compresses GET /evaluate/bulk and the SDK configuration the same way, and the configuration keeps its 304', async () => {
    const plainBulk = await app.inject({ method: 'GET', url: '/evaluate/bulk?targetingKey=user-1', headers: server });
    const gzBulk = await app.inject({
      method: 'GET',
      url: '/evaluate/bulk?targetingKey=user-1',
      headers: { ...server, 'accept-encoding': 'gzip' },
    });
    expect(gzBulk.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gzBulk.rawPayload).toString('utf8'))).toEqual(plainBulk.json());

    const url = '/sdk/v1/configuration';
    const plain = await app.inject({ method: 'GET', url, headers: server });
    const br = await app.inject({ method: 'GET', url, headers: { ...server, 'accept-encoding': 'br' } });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).toString('utf8')).toBe(plain.body);
    expect(br.headers.etag).toBe(`W/${plain.headers.etag}`);
    const again = await app.inject({
      method: 'GET',
      url,
      headers: { ...server, 'accept-encoding': 'br', 'if-none-match': br.headers.etag as string },
    });
    expect(again.statusCode).toBe(304);
  });
});
