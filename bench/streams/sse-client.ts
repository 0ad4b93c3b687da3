/**
 * One client process of the streams benchmark: opens `count` OFREP event streams (GET <url>, one socket each) at
 * `perSecond`, reads them with a minimal SSE parser, and stamps every event with CLOCK_MONOTONIC (the same clock in
 * every process of the machine, so the benchmark can compare it with its own). It prints its progress as JSON lines
 * and, on SIGTERM, writes what it received to `resultsFile` and exits.
 *
 *   node bench/streams/sse-client.ts <url> <count> <perSecond> <resultsFile>
 */
import http from 'node:http';
import { writeFileSync } from 'node:fs';

const [url, countArg, perSecondArg, resultsFile] = process.argv.slice(2);
if (!url || !countArg || !perSecondArg || !resultsFile) {
  console.error('usage: sse-client.ts <url> <count> <perSecond> <resultsFile>');
  process.exit(2);
}
const count = Number(countArg);
const perSecond = Number(perSecondArg);
// Handshakes in flight at once: the ramp must not turn into a burst when the server is slow to answer.
const maxPending = 100;

const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

export interface StreamReceipts {
  /** For every stream, the time each event arrived (ms of CLOCK_MONOTONIC) and its data. */
  streams: { times: number[]; data: string[] }[];
  opened: number;
  failed: number;
  closed: number;
  keepAlives: number;
  statuses: Record<string, number>;
  errors: string[];
}

const receipts: StreamReceipts = { streams: [], opened: 0, failed: 0, closed: 0, keepAlives: 0, statuses: {}, errors: [] };
const requests: http.ClientRequest[] = [];
let pending = 0;
let stopping = false;

/** An SSE parser for one stream: lines, `data:` accumulated until a blank line, comments counted. */
function reader(stream: { times: number[]; data: string[] }) {
  let buffer = '';
  let data: string[] = [];
  return (chunk: string, arrived: number) => {
    buffer += chunk;
    let newline: number;
    while ((newline = buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
      if (line === '') {
        if (data.length > 0) {
          stream.times.push(arrived);
          stream.data.push(data.join('\n'));
        }
        data = [];
      } else if (line.startsWith(':')) receipts.keepAlives++;
      else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
      // id, event and retry lines: what the benchmark compares is the data.
    }
  };
}

function open(): void {
  const stream = { times: [] as number[], data: [] as string[] };
  receipts.streams.push(stream);
  pending++;
  let answered = false;
  // agent: false — a socket of its own per stream, as 10,000 browsers would have.
  const request = http.get(url!, { agent: false, headers: { accept: 'text/event-stream' } }, (response) => {
    answered = true;
    pending--;
    const status = String(response.statusCode);
    receipts.statuses[status] = (receipts.statuses[status] ?? 0) + 1;
    if (response.statusCode !== 200) {
      receipts.failed++;
      response.resume();
      return;
    }
    receipts.opened++;
    response.setEncoding('utf8');
    const read = reader(stream);
    response.on('data', (chunk: string) => read(chunk, monotonicMs()));
    response.on('end', () => {
      if (!stopping) receipts.closed++;
    });
  });
  request.on('error', (error) => {
    if (stopping) return;
    if (receipts.errors.length < 20) receipts.errors.push(error.message);
    if (answered) {
      receipts.closed++;
    } else {
      pending--;
      receipts.failed++;
    }
  });
  requests.push(request);
}

let lastReport = '';
function report(): void {
  const events = receipts.streams.reduce((sum, s) => sum + s.times.length, 0);
  const line = JSON.stringify({ opened: receipts.opened, failed: receipts.failed, closed: receipts.closed, events });
  if (line !== lastReport) console.log(line);
  lastReport = line;
}
const reporter = setInterval(report, 50);

process.once('SIGTERM', () => {
  stopping = true;
  clearInterval(reporter);
  report();
  writeFileSync(resultsFile, JSON.stringify(receipts));
  for (const request of requests) request.destroy();
  process.exit(0);
});

// The ramp: a bounded loop, `perSecond` streams a second in slices of 10 ms, never more than `maxPending` waiting.
const started = monotonicMs();
while (requests.length < count && !stopping) {
  const due = Math.min(count, Math.floor(((monotonicMs() - started) / 1000) * perSecond) + 1);
  while (requests.length < due && pending < maxPending) open();
  await new Promise((resolve) => setTimeout(resolve, 10));
}
