/**
 * The in-process OpenFeature provider (issue 16), two figures:
 *
 * 1. Throughput: bench/engine/provider-throughput.bench.ts as a child process (CPU-bound: nothing else of the benchmark
 *    runs meanwhile) — `client.getBooleanValue` through the provider against unleash-client's `isEnabled`, same flags,
 *    same contexts, same process; target ≥ 4×.
 * 2. Propagation: the provider (in this process) against an evaluation instance of the platform, started with a
 *    server SDK key; 50 toggles of a flag through the flags API (`PATCH /flags/{key}/environments/production`,
 *    `enabled`), one at a time, each timed from the API's 200 to the provider's `PROVIDER_CONFIGURATION_CHANGED`
 *    naming the flag, once the client answers the new value; p50/p99/max, target p99 ≤ 1 s. Twice: with the change
 *    stream (the default), and with the stream off (polling every BENCH_PROVIDER_POLL_MS, default 2 s; the provider's
 *    default is 30 s) to show what the stream buys.
 */
import path from 'node:path';
import { OpenFeature, ProviderEvents, type Client, type EventDetails, type Logger } from '@openfeature/server-sdk';
import { ToggleMasterProvider } from '../packages/openfeature-provider/src/index.ts';
import type { SetResult } from './engine/provider-throughput.bench.ts';
import { fmt } from './lib/load.ts';
import { baseEnvironment, repoRoot, sleep, startNode } from './lib/processes.ts';
import { percentileOf, target } from './lib/report.ts';
import { expectStatus, type RunningRole, type Togglemaster } from './lib/togglemaster.ts';

export interface ProviderThroughputResult {
  sdkVersion: string;
  unleashVersion: string;
  rounds: number;
  roundMs: number;
  sets: SetResult[];
}

/** Runs the throughput benchmark as a child process, its lines printed as they come; its figures from its RESULT line. */
export async function runProviderThroughput(): Promise<ProviderThroughputResult> {
  let result: ProviderThroughputResult | undefined;
  const child = startNode('provider-throughput-bench', path.join(repoRoot, 'bench', 'engine', 'provider-throughput.bench.ts'), [], {
    // Its knobs (BENCH_PROVIDER_ROUNDS, _ROUND_MS, _SETS) go along; nothing else of the caller's environment.
    env: {
      ...baseEnvironment(),
      ...Object.fromEntries(
        Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('BENCH_PROVIDER_')),
      ),
    },
    onStdoutLine: (line) => {
      if (line.startsWith('RESULT ')) result = JSON.parse(line.slice('RESULT '.length)) as ProviderThroughputResult;
      else console.log(`  ${line}`);
    },
  });
  const code = await child.exited;
  if (code !== 0 || !result) throw new Error(`the provider throughput benchmark failed (${code}):\n${child.tail()}`);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Propagation

const flagKey = 'bench-provider';
const environment = 'production';

interface Percentiles {
  p50: number;
  p99: number;
  max: number;
}

export interface ProviderPropagationLine {
  mode: 'stream' | 'polling';
  pollIntervalMs?: number;
  changes: number;
  fromAnswer: Percentiles;
  fromRequest: Percentiles;
  /** Requests for the configuration the provider made during the changes (one per change with the stream). */
  configurationReads: number;
  met: boolean;
}

export interface ProviderPropagationResult {
  stream: ProviderPropagationLine;
  polling: ProviderPropagationLine;
}

const stats = (values: number[]): Percentiles => ({
  p50: percentileOf(values, 0.5),
  p99: percentileOf(values, 0.99),
  max: Math.max(...values),
});

async function until(what: string, check: () => Promise<boolean>, limitMs = 15_000): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * One provider, `changes` toggles. The waiter for a change is in place before its PATCH is sent: an event that
 * arrives before the API's answer is read counts as 0 ms from the answer.
 */
async function measure(
  tm: Togglemaster,
  evaluation: RunningRole,
  sdkKey: string,
  mode: 'stream' | 'polling',
  changes: number,
  pollIntervalMs: number,
): Promise<ProviderPropagationLine> {
  const problems: string[] = [];
  const logger: Logger = {
    error: (...args: unknown[]) => problems.push(args.map(String).join(' ')),
    warn: (...args: unknown[]) => problems.push(args.map(String).join(' ')),
    info: () => {},
    debug: () => {},
  };
  let configurationReads = 0;
  const countingFetch: typeof fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.includes('/sdk/v1/configuration')) configurationReads += 1;
    return fetch(input, init);
  };
  const provider = new ToggleMasterProvider({
    baseUrl: evaluation.url,
    sdkKey,
    stream: mode === 'stream',
    ...(mode === 'polling' ? { pollIntervalMs } : {}),
    logger,
    fetch: countingFetch,
  });
  const domain = `provider-propagation-${mode}`;
  await OpenFeature.setProviderAndWait(domain, provider);
  const client: Client = OpenFeature.getClient(domain);
  const context = { targetingKey: 'bench-provider-user' };
  let waiter: { expected: boolean; resolve: (at: number) => void } | undefined;
  const onChanged = (details?: EventDetails<ProviderEvents.ConfigurationChanged>) => {
    const at = performance.now();
    const current = waiter;
    if (!current || !details?.flagsChanged?.includes(flagKey)) return;
    // The event names the flag; the change counts once the client answers the new value.
    void client.getBooleanValue(flagKey, !current.expected, context).then((value) => {
      if (value === current.expected && waiter === current) {
        waiter = undefined;
        current.resolve(at);
      }
    });
  };
  try {
    const initial = await client.getBooleanValue(flagKey, false, context);
    if (mode === 'stream') await until('the provider to open the change stream', async () => provider.stats().sync.streaming);
    client.addHandler(ProviderEvents.ConfigurationChanged, onChanged);

    const fromAnswer: number[] = [];
    const fromRequest: number[] = [];
    const readsBefore = configurationReads;
    let enabled = initial;
    const limitMs = mode === 'polling' ? pollIntervalMs + 10_000 : 10_000;
    for (let i = 0; i < changes; i++) {
      enabled = !enabled;
      const expected = enabled;
      const seen = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${mode}: change ${i + 1} not seen by the provider after ${limitMs} ms`)), limitMs);
        waiter = {
          expected,
          resolve: (at) => {
            clearTimeout(timer);
            resolve(at);
          },
        };
      });
      const sent = performance.now();
      const answer = await tm.api('PATCH', `${tm.flags.url}/flags/${flagKey}/environments/${environment}`, { enabled });
      const answered = performance.now();
      expectStatus(`toggle ${i + 1}`, answer, 200);
      const at = await seen;
      fromAnswer.push(Math.max(0, at - answered));
      fromRequest.push(at - sent);
      // The next change a random time later: 20–170 ms with the stream (as the other propagation benchmarks, no fixed
      // phase against the relay's 100 ms cycle); with polling, anywhere in the interval (the change just seen came
      // right after a poll: a short fixed gap would catch every change at the same point of the cycle).
      await sleep(mode === 'stream' ? 20 + Math.random() * 150 : Math.random() * pollIntervalMs);
    }
    if (problems.length > 0) throw new Error(`the provider logged problems (${mode}):\n${problems.slice(0, 5).join('\n')}`);
    const line: ProviderPropagationLine = {
      mode,
      ...(mode === 'polling' ? { pollIntervalMs } : {}),
      changes,
      fromAnswer: stats(fromAnswer),
      fromRequest: stats(fromRequest),
      configurationReads: configurationReads - readsBefore,
      met: percentileOf(fromAnswer, 0.99) <= 1_000,
    };
    return line;
  } finally {
    // Its own domain stays registered (a new one per mode); the provider stops syncing and sends its reports.
    client.removeHandler(ProviderEvents.ConfigurationChanged, onChanged);
    await provider.onClose();
  }
}

function print(line: ProviderPropagationLine): void {
  const what =
    line.mode === 'stream'
      ? 'change stream (default)'
      : `stream off, polling every ${fmt(line.pollIntervalMs ?? 0)} ms (the provider's default: 30,000 ms)`;
  console.log(`  ${line.changes} toggles, ${what}:`);
  console.log(
    `    from its 200 answer:   p50 ${fmt(line.fromAnswer.p50, 1)} ms   p99 ${fmt(line.fromAnswer.p99, 1)} ms   max ${fmt(line.fromAnswer.max, 1)} ms   (target p99 ≤ 1 s: ${target(line.met)})`,
  );
  console.log(
    `    from the request:      p50 ${fmt(line.fromRequest.p50, 1)} ms   p99 ${fmt(line.fromRequest.p99, 1)} ms   max ${fmt(line.fromRequest.max, 1)} ms`,
  );
  console.log(`    configuration requests during the toggles: ${line.configurationReads}`);
}

export async function runProviderPropagation(
  tm: Togglemaster,
  evaluation: RunningRole,
  changes = Number(process.env.BENCH_PROVIDER_CHANGES ?? 50),
  pollIntervalMs = Number(process.env.BENCH_PROVIDER_POLL_MS ?? 2_000),
): Promise<ProviderPropagationResult> {
  expectStatus(
    'provider flag',
    await tm.api('POST', `${tm.flags.url}/flags`, {
      key: flagKey,
      name: 'Provider',
      type: 'boolean',
      environments: { production: { enabled: true } },
    }),
    201,
  );
  const key = await tm.api<{ key: string }>('POST', `${tm.auth.url}/auth/api-keys`, {
    environment,
    name: 'provider benchmark',
    kind: 'server',
  });
  expectStatus('server key', key, 201);
  // A new key and a new flag reach the evaluation instances through the change path: start once both are served.
  await until('the evaluation instance to serve the configuration with the flag to the new key', async () => {
    const response = await fetch(`${evaluation.url}/sdk/v1/configuration`, { headers: { 'x-api-key': key.body.key } });
    const text = await response.text();
    return response.status === 200 && (JSON.parse(text) as { flags: { key: string }[] }).flags.some((f) => f.key === flagKey);
  });

  const stream = await measure(tm, evaluation, key.body.key, 'stream', changes, pollIntervalMs);
  print(stream);
  const polling = await measure(tm, evaluation, key.body.key, 'polling', changes, pollIntervalMs);
  print(polling);
  return { stream, polling };
}
