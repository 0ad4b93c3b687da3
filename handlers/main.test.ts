import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../', import.meta.url));

/** Runs `node handlers/main.ts …` as `npm start` and the images do, and collects how it ended. */
function runMain(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['handlers/main.ts', ...args],
      { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe('starting on a port another process holds', () => {
  let holder: Server | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await new Promise((resolve) => holder?.close(resolve) ?? resolve(undefined));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Listens on `port`, or answers false when something else already does. */
  async function occupy(port: number): Promise<boolean> {
    const server = createServer();
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) holder = server;
    return ok;
  }

  it('says in one sentence which port and role are taken and mentions PORT_OFFSET, then exits non-zero', async () => {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (!(await occupy(port))) return expect.fail(`port ${port} was taken before the test; run it again`);
    const run = await runMain(['console'], { PORT: String(port), HOST: '127.0.0.1' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`console cannot listen on 127.0.0.1:${port}: the port is already in use`);
    expect(run.stderr).toContain('PORT_OFFSET=');
    expect(run.stdout).not.toContain('EADDRINUSE');
  }, 60_000);

  it('stops a second all-in-one process before it opens the data directory', async () => {
    const offset = 20_000 + Math.floor(Math.random() * 10_000);
    if (!(await occupy(8001 + offset))) return expect.fail(`port ${8001 + offset} was taken before the test; run it again`);
    dataDir = await mkdtemp(join(tmpdir(), 'tm-second-start-'));
    const run = await runMain(['all-in-one'], { PORT_OFFSET: String(offset), DATA_DIR: dataDir, HOST: '' });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`auth cannot listen on 127.0.0.1:${8001 + offset}: the port is already in use`);
    expect(existsSync(join(dataDir, 'pglite'))).toBe(false);
  }, 60_000);
});
