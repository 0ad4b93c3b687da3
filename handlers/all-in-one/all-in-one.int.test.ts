import { afterAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const portOffset = 1100;
const authUrl = `http://127.0.0.1:${8001 + portOffset}`;
const flagsUrl = `http://127.0.0.1:${8002 + portOffset}`;
const targetingUrl = `http://127.0.0.1:${8003 + portOffset}`;
const evaluationUrl = `http://127.0.0.1:${8004 + portOffset}`;
const analyticsUrl = `http://127.0.0.1:${8005 + portOffset}`;

interface Running {
  child: ChildProcess;
  output: () => string;
  printed: { password: string; sdkKey: string };
}

/** Starts `npm start`'s process exactly as a user would, and waits for it to print that it is running. */
async function start(dataDir: string): Promise<Running> {
  const child = spawn(process.execPath, ['handlers/main.ts', 'all-in-one'], {
    env: { ...process.env, DATA_DIR: dataDir, PORT_OFFSET: String(portOffset), LOG_LEVEL: 'warn', ADMIN_EMAIL: '', ADMIN_PASSWORD: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('SDK key')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`all-in-one did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const password = /admin login\s+\S+ \/ (\S+)/.exec(output)?.[1] ?? '';
  const sdkKey = /SDK key\s+(\S+)/.exec(output)?.[1] ?? '';
  return { child, output: () => output, printed: { password, sdkKey } };
}

async function stop(running: Running): Promise<number | null> {
  running.child.kill('SIGTERM');
  return new Promise((resolve) => running.child.once('exit', (code) => resolve(code)));
}

describe('the all-in-one process (npm start)', () => {
  let dataDir: string;
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts every service on embedded defaults, seeds a demo, answers, and stops cleanly on SIGTERM', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tm-aio-'));
    const first = await start(dataDir);
    try {
      expect(first.output()).toContain(`${flagsUrl}/docs/flags`);
      for (const url of [authUrl, flagsUrl, targetingUrl, evaluationUrl, analyticsUrl, `http://127.0.0.1:${8006 + portOffset}`]) {
        const ready = await fetch(`${url}/readyz`);
        expect(ready.status, url).toBe(200);
      }
      const login = await fetch(`${authUrl}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@togglemaster.local', password: first.printed.password }),
      });
      expect(login.status).toBe(200);
      const { accessToken } = (await login.json()) as { accessToken: string };
      const flags = (await (await fetch(`${flagsUrl}/flags`, { headers: { authorization: `Bearer ${accessToken}` } })).json()) as {
        items: { key: string }[];
      };
      expect(flags.items.map((f) => f.key).sort()).toEqual(['banner-color', 'new-checkout', 'search-page-size']);
      // The demo rules answer through OFREP with the printed key: a beta tester gets the new checkout.
      const evaluated = await fetch(`${evaluationUrl}/ofrep/v1/evaluate/flags/new-checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': first.printed.sdkKey },
        body: JSON.stringify({ context: { targetingKey: 'user-1' } }),
      });
      expect(await evaluated.json()).toMatchObject({ key: 'new-checkout', value: true, reason: 'TARGETING_MATCH' });
      const stranger = await fetch(`${evaluationUrl}/ofrep/v1/evaluate/flags/new-checkout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': first.printed.sdkKey },
        body: JSON.stringify({ context: { targetingKey: 'someone', country: 'FR' } }),
      });
      expect(await stranger.json()).toMatchObject({ value: false, reason: 'STATIC', metadata: { reason: 'DEFAULT' } });

      // Evaluations are counted: events go through the SQS stand-in to the worker and into the DynamoDB stand-in.
      for (let i = 0; i < 7; i++) {
        await fetch(`${evaluationUrl}/evaluate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': first.printed.sdkKey },
          body: JSON.stringify({ flagKey: 'search-page-size', context: { targetingKey: `reader-${i}` } }),
        });
      }
      const deadline = Date.now() + 20_000;
      let total = 0;
      while (total < 7 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 250));
        const stats = await fetch(`${analyticsUrl}/analytics/stats?flagKey=search-page-size&environment=development`, {
          headers: { authorization: `Bearer ${accessToken}` },
        });
        total = ((await stats.json()) as { total: number }).total;
      }
      expect(total).toBe(7);
    } finally {
      expect(await stop(first)).toBe(0);
    }
  }, 120_000);

  it('keeps its data, admin and SDK key across a restart', async () => {
    const before = await start(dataDir);
    const printed = before.printed;
    expect(await stop(before)).toBe(0);
    const again = await start(dataDir);
    try {
      expect(again.printed).toEqual(printed);
      const login = await fetch(`${authUrl}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@togglemaster.local', password: printed.password }),
      });
      const { accessToken } = (await login.json()) as { accessToken: string };
      const flags = (await (await fetch(`${flagsUrl}/flags`, { headers: { authorization: `Bearer ${accessToken}` } })).json()) as {
        items: unknown[];
      };
      expect(flags.items).toHaveLength(3);
    } finally {
      expect(await stop(again)).toBe(0);
    }
  }, 120_000);
});
