/**
 * The processes a benchmark starts: spawned as production runs them (`node <script> <role>`), tracked so that every
 * one is stopped at the end, on failure and on Ctrl-C, and measured from /proc (CPU ticks and RSS).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');

/** Where every child's stdout and stderr go (one file each); printed at the end of a run. */
export const logDir = path.join(os.tmpdir(), `togglemaster-bench-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(logDir, { recursive: true });

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  exited: Promise<number | string>;
  /** The last few KiB the process wrote to stderr and stdout, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const children = new Set<Child>();
const cleanups: (() => Promise<void>)[] = [];

/** A minimal, explicit environment: nothing of the caller's shell leaks into a benchmark process. */
export function baseEnvironment(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR'];
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k]]])));
}

export interface StartOptions {
  env: Record<string, string>;
  /** Extra node flags for this child only (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** Called with each line of stdout (a stand-in announces its endpoint this way). */
  onStdoutLine?: (line: string) => void;
}

export function startNode(name: string, script: string, args: string[], options: StartOptions): Child {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), script, ...args], {
    cwd: repoRoot,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const log: WriteStream = createWriteStream(path.join(logDir, `${name}.log`));
  let tail = '';
  let partial = '';
  const keep = (chunk: Buffer) => {
    log.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-4096);
  };
  child.stderr.on('data', keep);
  child.stdout.on('data', (chunk: Buffer) => {
    keep(chunk);
    if (!options.onStdoutLine) return;
    partial += chunk.toString('utf8');
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) options.onStdoutLine(line);
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(entry);
      log.end();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const entry: Child = {
    name,
    pid: child.pid,
    process: child,
    exited,
    tail: () => tail,
    async stop(graceMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(entry);
  return entry;
}

/** Runs a node script to completion (e.g. `migrate`), failing with its output when it does not exit 0. */
export async function runNode(name: string, script: string, args: string[], env: Record<string, string>): Promise<void> {
  const child = startNode(name, script, args, { env });
  const code = await child.exited;
  if (code !== 0) throw new Error(`${name} exited with ${code}:\n${child.tail()}`);
}

/** Something to undo at the end (drop a database, delete keys), run last-in first-out after the processes stop. */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

let stopping: Promise<void> | undefined;
/** Stops every process still running, then runs the clean-ups. Safe to call more than once. */
export function stopEverything(): Promise<void> {
  stopping ??= (async () => {
    await Promise.all([...children].map((c) => c.stop(10_000)));
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch (error) {
        console.error(`clean-up failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  })();
  return stopping;
}

/** Ctrl-C, SIGTERM and an uncaught failure all stop what was started; an abrupt exit still kills the children. */
export function installSignalHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping everything the benchmark started…`);
      void stopEverything().finally(() => process.exit(130));
    });
  }
  process.on('exit', () => {
    for (const child of children) child.process.kill('SIGKILL');
  });
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers `status` (default 200); returns the milliseconds waited. */
export async function waitForHttp(
  url: string,
  options: { status?: number; timeoutMs?: number; child?: Child; intervalMs?: number } = {},
): Promise<number> {
  const started = performance.now();
  const limit = options.timeoutMs ?? 60_000;
  for (;;) {
    if (options.child && (options.child.process.exitCode !== null || options.child.process.signalCode !== null)) {
      throw new Error(`${options.child.name} exited before ${url} answered:\n${options.child.tail()}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      if (response.status === (options.status ?? 200)) return performance.now() - started;
    } catch {
      // not listening yet
    }
    if (performance.now() - started > limit)
      throw new Error(
        `${url} did not answer ${options.status ?? 200} within ${limit} ms${options.child ? `:\n${options.child.tail()}` : ''}`,
      );
    await sleep(options.intervalMs ?? 50);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// /proc readings.
let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // Linux's usual value
}

/** User + system CPU time of a process, in seconds (/proc/<pid>/stat fields 14 and 15). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return NaN;
  }
}

/** Resident set size of a process in bytes (/proc/<pid>/status VmRSS). */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Processes of the machine's shared servers (PostgreSQL backends, Redis), to show their share of the CPU too. */
export function pidsOf(command: RegExp): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (command.test(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) pids.push(Number(entry));
    } catch {
      // gone
    }
  }
  return pids;
}

/** One-minute load average and the number of cores, to say whether the machine was quiet. */
export function loadAverage(): { one: number; cores: number } {
  return { one: os.loadavg()[0] ?? NaN, cores: os.availableParallelism() };
}
