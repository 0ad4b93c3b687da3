/**
 * What the console's browser tests and the screenshot script run against: the all-in-one process (every service,
 * exactly as `npm start` runs it, the console included) on ports of their own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Upstream } from '../../handlers/console/console-app.ts';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

const servicePorts: Record<Upstream, number> = { auth: 8001, flags: 8002, targeting: 8003, evaluation: 8004, analytics: 8005 };

export function upstreamsFor(portOffset: number): Record<Upstream, string> {
  return Object.fromEntries(Object.entries(servicePorts).map(([name, port]) => [name, `http://127.0.0.1:${port + portOffset}`])) as Record<
    Upstream,
    string
  >;
}

export interface AllInOne {
  child: ChildProcess;
  output(): string;
  admin: { email: string; password: string };
  sdkKey: string;
  stop(): Promise<number | null>;
}

/** Starts `node handlers/main.ts all-in-one` and waits until it prints the SDK key (it is then ready). */
export async function startAllInOne(options: { dataDir: string; portOffset: number; timeoutMs?: number }): Promise<AllInOne> {
  const child = spawn(process.execPath, ['handlers/main.ts', 'all-in-one'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DATA_DIR: options.dataDir,
      PORT_OFFSET: String(options.portOffset),
      LOG_LEVEL: 'warn',
      ADMIN_EMAIL: '',
      ADMIN_PASSWORD: '',
      EVENTS_FLUSH_INTERVAL_MS: '500',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (!output.includes('SDK key')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`all-in-one did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const login = /admin login\s+(\S+) \/ (\S+)/.exec(output);
  const sdkKey = /SDK key\s+(\S+)/.exec(output)?.[1] ?? '';
  return {
    child,
    output: () => output,
    admin: { email: login?.[1] ?? '', password: login?.[2] ?? '' },
    sdkKey,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        child.once('exit', (code) => resolve(code));
        child.kill('SIGTERM');
      }),
  };
}

/** The console the all-in-one process serves, in front of its services. */
export function consoleUrlFor(portOffset: number): string {
  return `http://127.0.0.1:${8080 + portOffset}`;
}
