import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Role } from '../../shared/config/config.ts';
import platformNames from '../../shared/contracts/platform-names.json' with { type: 'json' };
import { freePort } from '../../shared/testing/free-port.ts';
import { proxiedPrefixes } from './console-app.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The variables the README documents for where each service answers (spelled out: this is what operators set). */
const urlVariables: Record<Role, string> = {
  auth: 'AUTH_URL',
  flags: 'FLAGS_URL',
  targeting: 'TARGETING_URL',
  evaluation: 'EVALUATION_URL',
  analytics: 'ANALYTICS_URL',
};

/** One stand-in per service: it answers with its own name, the path it was asked and the forwarded headers. */
async function standIn(name: Role): Promise<{ server: Server; url: string; seen: { url: string; headers: IncomingHttpHeaders }[] }> {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ service: name, url: req.url }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('the console role (node handlers/main.ts console)', () => {
  const standIns = new Map<Role, Awaited<ReturnType<typeof standIn>>>();
  let child: ChildProcess;
  let output = '';
  let base = '';

  beforeAll(async () => {
    for (const role of Object.keys(urlVariables) as Role[]) standIns.set(role, await standIn(role));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // Production, as in its Deployment, and with no database and no Redis: the console needs neither.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
      TRUST_PROXY: 'true',
      DATABASE_URL: '',
      PGHOST: '',
      REDIS_URL: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
    };
    for (const [role, variable] of Object.entries(urlVariables) as [Role, string][]) env[variable] = standIns.get(role)!.url;
    child = spawn(process.execPath, ['handlers/main.ts', 'console'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const answered = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (answered) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the console role did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 30_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    for (const { server } of standIns.values()) await new Promise((resolve) => server.close(resolve));
  });

  it('is a role of platform-names.json on its own port', () => {
    expect(platformNames.frontends.console).toMatchObject({ workload: 'console', port: 8080, ecrRepository: 'togglemaster/console' });
  });

  it('answers /readyz (ready, or degraded when web/dist is not built) and sends / to /console/', async () => {
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { status: string }).status).toMatch(/^(ok|degraded)$/);
    const root = await fetch(`${base}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
  });

  it('proxies each API prefix to the service its *_URL variable names, with the client address forwarded', async () => {
    for (const { prefix, upstream } of proxiedPrefixes) {
      const path = `${prefix}/anything?limit=5`;
      const res = await fetch(`${base}${path}`, { headers: { authorization: 'Bearer t', 'x-forwarded-for': '203.0.113.9' } });
      expect(res.status, path).toBe(200);
      expect(await res.json(), path).toEqual({ service: upstream, url: path });
      const seen = standIns.get(upstream)!.seen.at(-1)!;
      expect(seen.headers.authorization, path).toBe('Bearer t');
      expect(seen.headers['x-forwarded-for'], path).toMatch(/^203\.0\.113\.9\b/);
    }
  });

  it('drains and exits 0 on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
