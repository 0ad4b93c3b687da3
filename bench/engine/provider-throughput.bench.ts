/**
 * Provider throughput (issue 16): `@togglemaster/openfeature-provider` through the OpenFeature server SDK
 * (`client.getBooleanValue`) against `unleash-client`'s `isEnabled`, same flags, same contexts, same process, side by
 * side in alternating rounds; and, to show where the time goes, the same provider's resolver called directly, the
 * provider without reporting, the SDK's own `InMemoryProvider` (a static flag: what the SDK costs by itself)
 * and the bare engine. Last, a diagnostic: the same three OpenFeature lines through the SDK's own sources rebuilt for
 * ES2022 (the published build targets ES2015; bench/lib/modern-openfeature-sdk.ts), to show what that build costs.
 *
 *   npm install --prefix bench/peers/unleash && node bench/engine/provider-throughput.bench.ts
 *   (or: npm run bench -- provider, which runs it as a child process and then the propagation part)
 *
 * Two flag sets (bench/lib/provider-workload.ts): the engine benchmark's one flag, and the HTTP benchmark's 50 flags
 * as boolean flags; 10,000 rotating contexts each.
 *
 * The provider measured is set up as production runs it, reporting on: it starts from a `bootstrap` document and has
 * a `baseUrl`, so it records every evaluation into its buffer and sends batches (`POST /events/v1/evaluations`, the
 * JSON serialised by the provider) — to a `fetch` of the benchmark's own in this process, which answers 202 (and the
 * configuration with its ETag) without any socket: the provider's work is measured, not a network's. The stream is
 * off and the poll interval one hour (no sync during the run). At the end `OpenFeature.close()` drains the reports and
 * the count is checked: every evaluation recorded was sent, none dropped.
 *
 * unleash-client runs as in the engine benchmark: offline from bootstrap data, refreshInterval 0, metrics off, an
 * in-memory storage provider, a URL on 127.0.0.1 it never contacts. A trip-wire on socket connects proves that
 * neither side touches the network. Before timing, both sides must agree on every (context, flag) pair.
 *
 * Each side is an async loop awaiting each OpenFeature call (the SDK's API is async); every 1,000 evaluations each
 * loop — unleash-client's too — yields to the event loop (`setImmediate`), as a server does between requests, so the
 * provider's report batches go out during the measurement as they would in production.
 *
 * Environment: BENCH_PROVIDER_ROUNDS (7), BENCH_PROVIDER_ROUND_MS (time per side per round, default 700),
 * BENCH_PROVIDER_SETS (comma-separated: one,fifty).
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { InMemoryProvider, OpenFeature, type Client, type Logger } from '@openfeature/server-sdk';
import { ToggleMasterProvider } from '../../packages/openfeature-provider/src/index.ts';
import { bucketOf } from '../../shared/engine/bucketing.ts';
import { compileEnvironment, evaluateFlag } from '../../shared/engine/index.ts';
import { modernOpenFeatureSdk, type ModernSdk } from '../lib/modern-openfeature-sdk.ts';
import { fiftyFlagSet, oneFlagSet, targetedKeyOf, type FlagSet } from '../lib/provider-workload.ts';
import { installNetworkTripWire, loadUnleashClient } from '../lib/unleash-offline.ts';

// Network trip-wire: any socket opened is recorded, and anything but 127.0.0.1 is refused.
const tripWire = installNetworkTripWire();
const connectAttempts = tripWire.attempts;

// ---------------------------------------------------------------------------------------------------------------
// The peer, loaded from its own folder (never a dependency of the product).
const { unleashModule, unleashUtil, unleashVersion } = loadUnleashClient();
// The SDK's package.json is not among its exports: read from where npm put it (the repository's node_modules).
const sdkVersion = (
  JSON.parse(readFileSync(new URL('../../node_modules/@openfeature/server-sdk/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

// ---------------------------------------------------------------------------------------------------------------
// Settings.
const rounds = Number(process.env.BENCH_PROVIDER_ROUNDS ?? 7);
const roundMs = Number(process.env.BENCH_PROVIDER_ROUND_MS ?? 700);
const warmUpMs = 1_000;
const yieldEvery = 1_000;
const setNames = (process.env.BENCH_PROVIDER_SETS ?? 'one,fifty').split(',').map((s) => s.trim());
const targetRatio = 4;

const format = (n: number) => Math.round(n).toLocaleString('en-US');
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** What the provider and the SDK log: kept, and printed at the end (nothing is expected). */
const logged: string[] = [];
const quietLogger: Logger = {
  error: (...args: unknown[]) => logged.push(`error: ${args.map(String).join(' ')}`),
  warn: (...args: unknown[]) => logged.push(`warn: ${args.map(String).join(' ')}`),
  info: () => {},
  debug: () => {},
};
OpenFeature.setLogger(quietLogger);

/**
 * The evaluation service, as far as the provider's reporting and sync see it, in this process: the configuration
 * (with an ETag; 304 when asked with it) and 202 for every report. No socket is opened.
 */
function serviceInProcess(document: unknown) {
  const etag = '"bench-1"';
  const body = JSON.stringify(document);
  const counts = { configurationReads: 0, reports: 0, reportBytes: 0 };
  const fetchInProcess: typeof fetch = async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (url.includes('/sdk/v1/configuration')) {
      counts.configurationReads += 1;
      if (new Headers(init?.headers).get('if-none-match') === etag) return new Response(null, { status: 304 });
      return new Response(body, { status: 200, headers: { etag, 'content-type': 'application/json' } });
    }
    if (url.includes('/events/v1/')) {
      counts.reports += 1;
      counts.reportBytes += typeof init?.body === 'string' ? init.body.length : 0;
      return new Response('{}', { status: 202, headers: { 'content-type': 'application/json' } });
    }
    return new Response(null, { status: 404 });
  };
  return { fetch: fetchInProcess, counts };
}

// ---------------------------------------------------------------------------------------------------------------
// The rebuilt SDK (see bench/lib/modern-openfeature-sdk.ts): the same sources for ES2022, its own API instance.
let modern: ModernSdk | undefined;
let modernProblem = '';
try {
  modern = await modernOpenFeatureSdk();
  modern.api.setLogger(quietLogger);
} catch (error) {
  modernProblem = error instanceof Error ? error.message : String(error);
}

/** A provider as production runs it, reporting on (to the in-process service), and how much it reported. */
function reportingProvider(set: FlagSet) {
  const service = serviceInProcess(set.document);
  const provider = new ToggleMasterProvider({
    baseUrl: 'http://127.0.0.1:9',
    sdkKey: 'bench-server-key',
    bootstrap: set.document,
    stream: false,
    pollIntervalMs: 3_600_000,
    fetch: service.fetch,
    logger: quietLogger,
  });
  return { provider, service };
}

interface Side {
  id: string;
  label: string;
  run: (count: number) => Promise<number>;
}

export interface SideResult {
  id: string;
  label: string;
  perSecond: number;
  nsPerEvaluation: number;
  rounds: number[];
}

export interface ReportingCheck {
  provider: string;
  recorded: number;
  sent: number;
  dropped: number;
  reports: number;
  reportMegabytes: number;
}

export interface SetResult {
  name: string;
  description: string;
  pairsChecked: number;
  targeted: number;
  sides: SideResult[];
  /** Provider through the OpenFeature client (reporting on) / unleash-client isEnabled: the figure of the issue. */
  ratio: number;
  resolverRatio: number;
  engineRatio: number;
  /** Through the SDK rebuilt for ES2022 (undefined when it could not be rebuilt). */
  modernRatio?: number;
  met: boolean;
  reporting: ReportingCheck[];
}

let sink = 0;

async function measureSet(set: FlagSet): Promise<{ result: Omit<SetResult, 'reporting'>; finish: () => ReportingCheck[] }> {
  const unleash = new unleashModule.Unleash({
    appName: 'togglemaster-provider-bench',
    url: 'http://127.0.0.1:9/api/',
    refreshInterval: 0,
    disableMetrics: true,
    metricsInterval: 0,
    storageProvider: new unleashModule.InMemStorageProvider(),
    bootstrap: { data: set.unleash.features, segments: set.unleash.segments },
    skipInstanceCountWarning: true,
  });
  unleash.on('warn', (message) => logged.push(`unleash warn: ${String(message)}`));
  unleash.on('error', (error) => logged.push(`unleash error: ${String(error)}`));
  await once(unleash as unknown as NodeJS.EventEmitter, 'synchronized');

  const staticFlags = Object.fromEntries(
    set.timedKeys.map((key) => [key, { variants: { on: true, off: false }, defaultVariant: 'on', disabled: false }]),
  );
  const published = reportingProvider(set);
  const reporting = published.provider;
  const quiet = new ToggleMasterProvider({ bootstrap: set.document, logger: quietLogger });
  await OpenFeature.setProviderAndWait(`tm-${set.name}`, reporting);
  await OpenFeature.setProviderAndWait(`tm-quiet-${set.name}`, quiet);
  await OpenFeature.setProviderAndWait(`memory-${set.name}`, new InMemoryProvider(staticFlags));
  const client: Client = OpenFeature.getClient(`tm-${set.name}`);
  const quietClient: Client = OpenFeature.getClient(`tm-quiet-${set.name}`);
  const memoryClient: Client = OpenFeature.getClient(`memory-${set.name}`);
  const checks: { name: string; provider: ToggleMasterProvider; service: ReturnType<typeof serviceInProcess> }[] = [
    { name: 'client (published SDK) and resolver', ...published },
  ];
  let modernClients: { reporting: Client; quiet: Client; memory: Client } | undefined;
  if (modern) {
    const rebuilt = reportingProvider(set);
    checks.push({ name: 'client (SDK built for ES2022)', ...rebuilt });
    await modern.api.setProviderAndWait(`tm-${set.name}`, rebuilt.provider);
    await modern.api.setProviderAndWait(`tm-quiet-${set.name}`, new ToggleMasterProvider({ bootstrap: set.document, logger: quietLogger }));
    await modern.api.setProviderAndWait(`memory-${set.name}`, new modern.InMemoryProvider(staticFlags));
    modernClients = {
      reporting: modern.api.getClient(`tm-${set.name}`),
      quiet: modern.api.getClient(`tm-quiet-${set.name}`),
      memory: modern.api.getClient(`memory-${set.name}`),
    };
  }
  const engine = compileEnvironment(set.document);

  const keys = set.timedKeys;
  const k = keys.length;
  const ours = set.ours;
  const theirs = set.theirs;
  const n = ours.length;

  // Agreement: every (context, flag) pair. The twin at 100% says whether the context passes the targeting; both sides
  // must say the same, and each side's 50% answer must be exactly "targeted and in the first half of its own hash"
  // (ToggleMaster: MurmurHash3 of salt/key mod 100,000 < 50,000; Unleash: MurmurHash3 of groupId:userId mod 100 + 1
  // <= 50). The provider (through the client and its resolver) must answer as the engine does.
  let targeted = 0;
  let oursOn = 0;
  let theirsOn = 0;
  let pairs = 0;
  for (let c = 0; c < n; c++) {
    const ctx = ours[c]!;
    const uctx = theirs[c]!;
    for (const key of keys) {
      const ourTargeted = await client.getBooleanValue(targetedKeyOf(key), false, ctx);
      const theirTargeted = unleash.isEnabled(targetedKeyOf(key), uctx);
      if (ourTargeted !== theirTargeted)
        throw new Error(`${key}: targeting disagrees on context ${c}: ours ${ourTargeted}, unleash ${theirTargeted}`);
      const ourOn = await client.getBooleanValue(key, false, ctx);
      const resolved = (await reporting.resolveBooleanEvaluation(key, false, ctx, quietLogger)).value;
      const modernOn = modernClients ? await modernClients.reporting.getBooleanValue(key, false, ctx) : ourOn;
      const engineOn = evaluateFlag(engine, key, ctx).value === true;
      const theirOn = unleash.isEnabled(key, uctx);
      if (ourOn !== engineOn || resolved !== engineOn || modernOn !== engineOn)
        throw new Error(`${key}: the provider does not answer as the engine on context ${c}`);
      if (ourOn !== (ourTargeted && bucketOf(key, ctx.targetingKey) < 50_000))
        throw new Error(`${key}: ToggleMaster's split is not its hash (${c})`);
      if (theirOn !== (theirTargeted && unleashUtil.normalizedStrategyValue(uctx.userId, key) <= 50))
        throw new Error(`${key}: Unleash's split is not its hash (${c})`);
      pairs++;
      if (ourTargeted) targeted++;
      if (ourOn) oursOn++;
      if (theirOn) theirsOn++;
    }
    if (c % 100 === 99) await turn();
  }

  // The sides: evaluation i asks flag i mod k for context i mod n; every 1,000 a turn of the event loop.
  const throughClient =
    (of: Client) =>
    async (count: number): Promise<number> => {
      let on = 0;
      for (let i = 0; i < count; i++) {
        if (await of.getBooleanValue(keys[i % k]!, false, ours[i % n])) on++;
        if (i % yieldEvery === yieldEvery - 1) await turn();
      }
      return on;
    };
  const sides: Side[] = [
    {
      id: 'unleash',
      label: 'unleash-client isEnabled',
      run: async (count) => {
        let on = 0;
        for (let i = 0; i < count; i++) {
          if (unleash.isEnabled(keys[i % k]!, theirs[i % n]!)) on++;
          if (i % yieldEvery === yieldEvery - 1) await turn();
        }
        return on;
      },
    },
    { id: 'client', label: 'OpenFeature client → provider (reporting on)', run: throughClient(client) },
    { id: 'clientQuiet', label: 'OpenFeature client → provider (reporting off)', run: throughClient(quietClient) },
    { id: 'inMemory', label: 'OpenFeature client → InMemoryProvider (static)', run: throughClient(memoryClient) },
    {
      id: 'resolver',
      label: 'provider.resolveBooleanEvaluation (reporting on)',
      run: async (count) => {
        let on = 0;
        for (let i = 0; i < count; i++) {
          if ((await reporting.resolveBooleanEvaluation(keys[i % k]!, false, ours[i % n]!, quietLogger)).value) on++;
          if (i % yieldEvery === yieldEvery - 1) await turn();
        }
        return on;
      },
    },
    {
      id: 'resolverQuiet',
      label: 'provider.resolveBooleanEvaluation (reporting off)',
      run: async (count) => {
        let on = 0;
        for (let i = 0; i < count; i++) {
          if ((await quiet.resolveBooleanEvaluation(keys[i % k]!, false, ours[i % n]!, quietLogger)).value) on++;
          if (i % yieldEvery === yieldEvery - 1) await turn();
        }
        return on;
      },
    },
    {
      id: 'engine',
      label: 'engine evaluateFlag (no provider, no SDK)',
      run: async (count) => {
        let on = 0;
        for (let i = 0; i < count; i++) {
          if (evaluateFlag(engine, keys[i % k]!, ours[i % n]!).value === true) on++;
          if (i % yieldEvery === yieldEvery - 1) await turn();
        }
        return on;
      },
    },
    ...(modernClients
      ? [
          { id: 'modernClient', label: 'SDK built for ES2022 → provider (reporting on)', run: throughClient(modernClients.reporting) },
          { id: 'modernQuiet', label: 'SDK built for ES2022 → provider (reporting off)', run: throughClient(modernClients.quiet) },
          { id: 'modernInMemory', label: 'SDK built for ES2022 → InMemoryProvider (static)', run: throughClient(modernClients.memory) },
        ]
      : []),
  ];

  // Warm-up (about a second each), which also sizes the rounds: each side runs about `roundMs` per round.
  const counts = new Map<string, number>();
  for (const side of sides) {
    let done = 0;
    const started = performance.now();
    while (performance.now() - started < warmUpMs) {
      sink += await side.run(yieldEvery);
      done += yieldEvery;
    }
    const rate = done / ((performance.now() - started) / 1000);
    counts.set(side.id, Math.max(yieldEvery, Math.round((rate * roundMs) / 1000 / yieldEvery) * yieldEvery));
  }
  const rates = new Map<string, number[]>(sides.map((side) => [side.id, []]));
  for (let r = 0; r < rounds; r++) {
    for (const side of sides) {
      const count = counts.get(side.id)!;
      const started = process.hrtime.bigint();
      sink += await side.run(count);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      rates.get(side.id)!.push(count / seconds);
    }
  }
  unleash.destroy();

  const results: SideResult[] = sides.map((side) => {
    const perSecond = median(rates.get(side.id)!);
    return { id: side.id, label: side.label, perSecond, nsPerEvaluation: 1e9 / perSecond, rounds: rates.get(side.id)! };
  });
  const rate = (id: string) => results.find((r) => r.id === id)?.perSecond ?? NaN;
  const ns = (id: string) => 1e9 / rate(id);
  const ratio = rate('client') / rate('unleash');
  const resolverRatio = rate('resolver') / rate('unleash');
  const engineRatio = rate('engine') / rate('unleash');
  const modernRatio = modernClients ? rate('modernClient') / rate('unleash') : undefined;
  const met = ratio >= targetRatio;

  console.log(`\nflag set "${set.name}": ${set.description}`);
  console.log(
    `agreement: targeting identical on ${format(pairs)}/${format(pairs)} (context, flag) pairs (${format(targeted)} targeted); ` +
      `50% split on: ToggleMaster ${format(oursOn)}, unleash ${format(theirsOn)} (each exactly its own hash); ` +
      `the provider (client${modernClients ? ', client of the ES2022 build' : ''} and resolver) = the engine on every pair`,
  );
  console.log(
    `rounds: ${rounds} per side, alternating, ~${roundMs} ms each (${sides.map((s) => `${s.id} ${format(counts.get(s.id)!)}`).join(', ')} evaluations), after a ${warmUpMs / 1000} s warm-up each`,
  );
  for (const r of results)
    console.log(
      `  ${r.label.padEnd(50)}: ${format(r.perSecond).padStart(11)} /s ${r.nsPerEvaluation.toFixed(0).padStart(7)} ns  (median; rounds ${r.rounds.map(format).join(', ')})`,
    );
  console.log(
    `  ratio provider via OpenFeature / unleash-client   : ${ratio.toFixed(2)}× (target ≥ ${targetRatio}×: ${met ? 'met' : 'MISSED'})`,
  );
  console.log(`  ratio provider's resolver direct / unleash-client : ${resolverRatio.toFixed(2)}×`);
  console.log(`  ratio engine / unleash-client                     : ${engineRatio.toFixed(2)}×`);
  if (modernRatio !== undefined)
    console.log(
      `  ratio via the SDK built for ES2022 / unleash-client: ${modernRatio.toFixed(2)}× (reporting off: ${(rate('modernQuiet') / rate('unleash')).toFixed(2)}×)`,
    );
  // Where the time goes, per evaluation (differences of medians: indicative, not exact).
  const f = (x: number) => `${Math.round(x).toLocaleString('en-US')} ns`;
  console.log(
    `  per evaluation, published SDK: provider via the client ${f(ns('client'))} = its resolver ${f(ns('resolver'))} + the SDK ${f(ns('client') - ns('resolver'))} ` +
      `(InMemoryProvider through it: ${f(ns('inMemory'))}, its resolver compiled to ES2015 as well)`,
  );
  console.log(
    `  per evaluation, the provider: resolver ${f(ns('resolver'))} = engine ${f(ns('engine'))} + reporting ${f(ns('resolver') - ns('resolverQuiet'))} ` +
      `+ the rest ${f(ns('resolverQuiet') - ns('engine'))} (context read, answer, promise); reporting through the client: ${f(ns('client') - ns('clientQuiet'))}`,
  );
  if (modernClients)
    console.log(
      `  per evaluation, ES2022 build:  provider via the client ${f(ns('modernClient'))} = its resolver ${f(ns('resolver'))} + the SDK ${f(ns('modernClient') - ns('resolver'))} ` +
        `(InMemoryProvider through it: ${f(ns('modernInMemory'))}); reporting through this client: ${f(ns('modernClient') - ns('modernQuiet'))}`,
    );

  return {
    result: {
      name: set.name,
      description: set.description,
      pairsChecked: pairs,
      targeted,
      sides: results,
      ratio,
      resolverRatio,
      engineRatio,
      ...(modernRatio !== undefined ? { modernRatio } : {}),
      met,
    },
    // After the APIs are closed (their providers' reports drained): every evaluation recorded was sent, none dropped.
    finish: () =>
      checks.map(({ name, provider, service }) => {
        const stats = provider.stats().evaluations;
        return {
          provider: name,
          recorded: stats.recorded,
          sent: stats.sent,
          dropped: stats.dropped,
          reports: service.counts.reports,
          reportMegabytes: service.counts.reportBytes / 1e6,
        };
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`Provider throughput benchmark — ${new Date().toISOString()}`);
console.log(
  `machine: ${os.availableParallelism()} cores (${cpu}), node ${process.version}, @openfeature/server-sdk ${sdkVersion}, unleash-client ${unleashVersion}`,
);
console.log(
  'provider: @togglemaster/openfeature-provider from source, bootstrap document + reporting on (batches to an in-process fetch answering 202); ' +
    'unleash-client offline from bootstrap (metrics off, as in the engine benchmark)',
);
console.log(
  modern
    ? `diagnostic: @openfeature/server-sdk ${modern.version}'s own sources (from its source map) rebuilt with Rolldown for ES2022 — the published build targets ES2015`
    : `diagnostic: the SDK could not be rebuilt for ES2022 (${modernProblem}); those lines are left out`,
);

const builders: Record<string, () => FlagSet> = { one: oneFlagSet, fifty: fiftyFlagSet };
const measured: { result: Omit<SetResult, 'reporting'>; finish: () => ReportingCheck[] }[] = [];
for (const name of setNames) {
  const build = builders[name];
  if (!build) throw new Error(`unknown flag set "${name}" (one, fifty)`);
  measured.push(await measureSet(build()));
}

// Drains every provider's reports (events.closeTimeoutMs), then checks that nothing was lost.
await OpenFeature.close();
await modern?.api.close();
modern?.remove();
tripWire.remove();
const sets: SetResult[] = measured.map(({ result, finish }) => ({ ...result, reporting: finish() }));
console.log('');
for (const set of sets)
  for (const r of set.reporting) {
    console.log(
      `reporting ("${set.name}", ${r.provider}): ${format(r.recorded)} evaluations recorded, ${format(r.sent)} sent in ${format(r.reports)} batches (${r.reportMegabytes.toFixed(1)} MB of JSON), ${format(r.dropped)} dropped`,
    );
    if (r.sent !== r.recorded || r.dropped !== 0) process.exitCode = 1;
  }
console.log(
  `network: ${connectAttempts.length} socket connects attempted${logged.length > 0 ? `; logged: ${logged.slice(0, 5).join(' | ')}` : ''}`,
);
if (connectAttempts.length > 0) process.exitCode = 1;
if (sink < 0) console.log(sink);
// One line for bench/run.ts.
console.log(`RESULT ${JSON.stringify({ sdkVersion, unleashVersion, rounds, roundMs, modern: modern !== undefined, sets })}`);
