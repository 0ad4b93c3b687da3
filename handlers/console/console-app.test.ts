import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { buildConsoleApp, contentSecurityPolicy, type Upstream } from './console-app.ts';

const config = { BODY_LIMIT_BYTES: 262_144, TRUST_PROXY: false, HOST: '127.0.0.1' };
const logger = pino({ level: 'silent' });

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

describe('the console server', () => {
  let upstream: Server;
  let upstreamUrl: string;
  const seen: Seen[] = [];
  let dist: string;
  let upstreams: Record<Upstream, string>;

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json', etag: '"7"' }).end(JSON.stringify({ echoed: req.url }));
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    upstreams = { auth: upstreamUrl, flags: upstreamUrl, targeting: upstreamUrl, evaluation: upstreamUrl, analytics: upstreamUrl };
    dist = await mkdtemp(join(tmpdir(), 'tm-console-'));
    await mkdir(join(dist, 'assets'));
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>ToggleMaster</title><div id="root"></div>');
    await writeFile(join(dist, 'assets', 'index-abc123.js'), 'console.log(1)');
    await writeFile(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  });
  afterAll(async () => {
    await new Promise((resolve) => upstream.close(resolve));
    await rm(dist, { recursive: true, force: true });
  });

  it('answers a client route with the app shell, never cached, under a strict content security policy', async () => {
    const { app } = await buildConsoleApp({ config, logger, upstreams, distDir: dist });
    for (const url of ['/console/', '/console/flags/new-checkout', '/console/flags/new-checkout/targeting?environment=production']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain('<div id="root">');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['content-security-policy']).toBe(contentSecurityPolicy);
      expect(res.headers['x-frame-options']).toBe('DENY');
    }
    expect(contentSecurityPolicy).not.toContain('unsafe-inline');
    expect(contentSecurityPolicy).not.toContain('unsafe-eval');
    await app.close();
  });

  it('serves hashed assets with a year-long immutable cache and refuses missing files and escapes', async () => {
    const { app } = await buildConsoleApp({ config, logger, upstreams, distDir: dist });
    const asset = await app.inject({ url: '/console/assets/index-abc123.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toContain('javascript');
    expect((await app.inject({ url: '/console/favicon.svg' })).headers['cache-control']).toBe('public, max-age=3600');
    const missing = await app.inject({ url: '/console/assets/gone-000.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    for (const url of ['/console/../package.json', '/console/%2e%2e/%2e%2e/package.json', '/console/assets/..%2f..%2fpackage.json']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).not.toBe(200);
    }
    await app.close();
  });

  it('sends / to the console', async () => {
    const { app } = await buildConsoleApp({ config, logger, upstreams, distDir: dist });
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/console/');
    await app.close();
  });

  it('says how to build the console when web/dist is missing, as a 503 problem', async () => {
    const { app } = await buildConsoleApp({ config, logger, upstreams, distDir: join(dist, 'not-built') });
    const res = await app.inject({ url: '/console/flags' });
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', detail: expect.stringContaining('npm run build:web') as string });
    // The API is still proxied, and the process is alive, only degraded.
    expect((await app.inject({ url: '/flags' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).json()).toMatchObject({ status: 'degraded' });
    await app.close();
  });

  it('proxies every API prefix with its path, query, body, headers and request id', async () => {
    const { app } = await buildConsoleApp({ config, logger, upstreams, distDir: dist });
    seen.length = 0;
    for (const url of [
      '/auth/validate',
      '/flags?tag=demo&limit=5',
      '/targeting/rules?flagKey=a',
      '/analytics/stats?flagKey=a&environment=development',
      '/ofrep/v1/evaluate/flags',
    ]) {
      const res = await app.inject({ url, headers: { authorization: 'Bearer t' } });
      expect(res.statusCode, url).toBe(200);
      expect(res.json()).toEqual({ echoed: url });
    }
    const patched = await app.inject({
      method: 'PATCH',
      url: '/flags/a/environments/production',
      headers: { 'content-type': 'application/json', 'if-match': '"3"', 'x-request-id': 'req-42' },
      payload: { enabled: true },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.headers.etag).toBe('"7"');
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ method: 'PATCH', url: '/flags/a/environments/production', body: '{"enabled":true}' });
    expect(last.headers).toMatchObject({ 'if-match': '"3"', 'x-request-id': 'req-42', 'content-type': 'application/json' });
    expect(seen.map((s) => s.headers.authorization).slice(0, 5)).toEqual(Array(5).fill('Bearer t'));
    const evaluated = await app.inject({
      method: 'POST',
      url: '/evaluate',
      headers: { 'content-type': 'application/json', 'x-api-key': 'tm_x' },
      payload: { flagKey: 'a', context: {} },
    });
    expect(evaluated.statusCode).toBe(200);
    expect(seen.at(-1)?.headers['x-api-key']).toBe('tm_x');
    await app.close();
  });

  it('answers a problem when a service does not answer', async () => {
    const { app } = await buildConsoleApp({ config, logger, upstreams: { ...upstreams, flags: 'http://127.0.0.1:1' }, distDir: dist });
    const res = await app.inject({ url: '/flags' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE', detail: expect.stringContaining('flags service') as string });
    await app.close();
  });

  it('has the health, readiness and metrics endpoints of every service', async () => {
    const { app } = await buildConsoleApp({ config, logger, upstreams, distDir: dist });
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/readyz' })).json()).toMatchObject({ status: 'ok' });
    expect((await app.inject({ url: '/metrics' })).body).toContain('http_request_duration_seconds');
    expect((await app.inject({ url: '/nowhere' })).headers['content-type']).toContain('application/problem+json');
    await app.close();
  });
});
