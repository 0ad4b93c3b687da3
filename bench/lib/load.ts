/**
 * One load measurement: autocannon (programmatic API) against one endpoint, a warm-up first, then the timed run,
 * with the CPU time (from /proc/<pid>/stat before and after) and the RSS of every server process involved.
 * Latency percentiles are computed from every response's own time (autocannon's histogram rounds to 1 ms).
 */
import autocannon, { type Request } from 'autocannon';
import { cpuSeconds, rssBytes } from './processes.ts';

export interface Watched {
  name: string;
  pids: number[];
}

export interface LoadSpec {
  title: string;
  url: string;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** A fixed request: one path and body. */
  path?: string;
  body?: string;
  /** Rotating requests: each request takes the next (path, body) of the list. */
  rotate?: { path: string; body?: string }[];
  /** The status every answer should have: 200 (any 2xx, the default) or 304 (a client that already has the answer). */
  expectStatus?: 200 | 304;
  connections?: number;
  durationSeconds?: number;
  warmupSeconds?: number;
}

export interface LoadResult {
  title: string;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  total: number;
  non2xx: number;
  errors: number;
  seconds: number;
  /** Average size of a 2xx response, headers included. */
  bytesPerResponse: number;
  cpu: { name: string; percent: number; rssMb: number }[];
  /** CPU of the load generator itself (this process), in percent of one core. */
  generatorCpu: number;
}

export const defaults = {
  connections: Number(process.env.BENCH_CONNECTIONS ?? 50),
  durationSeconds: Number(process.env.BENCH_DURATION ?? 15),
  warmupSeconds: Number(process.env.BENCH_WARMUP ?? 5),
};

function requestsOf(spec: LoadSpec): Request[] | undefined {
  if (!spec.rotate) return undefined;
  const list = spec.rotate;
  let next = 0;
  return [
    {
      method: spec.method,
      ...(spec.headers ? { headers: spec.headers } : {}),
      setupRequest: (request) => {
        const item = list[next++ % list.length]!;
        return { ...request, path: item.path, ...(item.body === undefined ? {} : { body: item.body }) };
      },
    },
  ];
}

async function fire(spec: LoadSpec, seconds: number, latencies?: number[]) {
  const instance = autocannon({
    url: spec.url + (spec.path ?? ''),
    method: spec.method,
    connections: spec.connections ?? defaults.connections,
    duration: seconds,
    timeout: 10,
    ...(spec.headers ? { headers: spec.headers } : {}),
    ...(spec.body === undefined ? {} : { body: spec.body }),
    ...(spec.rotate ? { requests: requestsOf(spec)! } : {}),
  });
  const ok = spec.expectStatus === 304 ? (status: number) => status === 304 : (status: number) => status >= 200 && status < 300;
  if (latencies)
    instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => void (ok(status) && latencies.push(ms)));
  return instance;
}

const percentile = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;

export async function runLoad(spec: LoadSpec, watched: Watched[]): Promise<LoadResult> {
  await fire(spec, spec.warmupSeconds ?? defaults.warmupSeconds);
  const latencies: number[] = [];
  const cpuBefore = watched.map((w) => w.pids.map((pid) => cpuSeconds(pid)));
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const result = await fire(spec, spec.durationSeconds ?? defaults.durationSeconds, latencies);
  const seconds = (performance.now() - started) / 1000;
  const own = process.cpuUsage(ownBefore);
  const cpu = watched.map((w, i) => ({
    name: w.name,
    // A process that came or went during the run (a PostgreSQL backend) counts for the time both readings exist.
    percent:
      (w.pids.reduce((sum, pid, j) => {
        const delta = cpuSeconds(pid) - cpuBefore[i]![j]!;
        return Number.isFinite(delta) ? sum + delta : sum;
      }, 0) /
        seconds) *
      100,
    rssMb:
      w.pids.reduce((sum, pid) => {
        const rss = rssBytes(pid);
        return Number.isFinite(rss) ? sum + rss : sum;
      }, 0) /
      2 ** 20,
  }));
  const sorted = Float64Array.from(latencies).sort();
  // autocannon counts every status outside 2xx as non-2xx: a run that expects 304s counts them as the answers.
  const answered = spec.expectStatus === 304 ? result['3xx'] : result['2xx'];
  return {
    title: spec.title,
    requestsPerSecond: answered / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? NaN,
    total: answered,
    non2xx: result.non2xx - (spec.expectStatus === 304 ? result['3xx'] : 0) + (spec.expectStatus === 304 ? result['2xx'] : 0),
    errors: result.errors + result.timeouts,
    seconds,
    bytesPerResponse: answered > 0 ? result.throughput.total / answered : NaN,
    cpu,
    generatorCpu: ((own.user + own.system) / 1e6 / seconds) * 100,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Printing.
export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '–';

export function printLoad(result: LoadResult): void {
  const problems = result.non2xx + result.errors > 0 ? `  (!) ${result.non2xx} non-2xx, ${result.errors} errors/timeouts` : '';
  console.log(
    `  ${result.title.padEnd(58)} ${fmt(result.requestsPerSecond).padStart(8)} req/s   p50 ${fmt(result.p50, 2).padStart(6)} ms   p99 ${fmt(result.p99, 2).padStart(6)} ms   ${fmt(result.bytesPerResponse)} B/resp${problems}`,
  );
  const parts = result.cpu.map((c) => `${c.name} ${fmt(c.percent)}% ${Number.isFinite(c.rssMb) ? `${fmt(c.rssMb)} MB` : ''}`.trim());
  console.log(`  ${''.padEnd(58)} cpu: ${parts.join(' · ')} · autocannon ${fmt(result.generatorCpu)}%`);
}

/** Requests per CPU-second of the named processes (those of `names`; all watched when none named). */
export function perCore(result: LoadResult, names?: string[]): number {
  const percent = result.cpu.filter((c) => !names || names.includes(c.name)).reduce((sum, c) => sum + c.percent, 0);
  return result.requestsPerSecond / (percent / 100);
}

export function ratio(ours: number, theirs: number): string {
  return `${(ours / theirs).toFixed(2)}×`;
}
