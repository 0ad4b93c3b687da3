import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConfigurationDocument } from '../src/types.ts';

/** One request the fake service received (reports only: their bodies parsed). */
export interface Received {
  path: string;
  idempotencyKey: string | undefined;
  apiKey: string | undefined;
  body: unknown;
  status: number;
}

/** What the fake service answers a report with: a status (with Retry-After, or a problem's body), or a thrown connection. */
export type ReportAnswer = { status: number; retryAfter?: number; body?: unknown } | 'hang-up';

/**
 * A stand-in for the evaluation service's SDK routes (shared/contracts/sdk-api.ts of ToggleMaster), for the
 * provider's unit tests: the configuration with ETag and 304, an OFREP-style event stream, and the two report
 * routes, whose answers a test decides. Requests are recorded.
 */
export async function fakeService(initial: ConfigurationDocument, options: { key?: string; stream?: boolean } = {}) {
  const key = options.key ?? 'server-key';
  let document = initial;
  let version = 1;
  const streams = new Set<ServerResponse>();
  const received: Received[] = [];
  const configurationRequests: { ifNoneMatch: string | undefined; flagConfigEtag: string | null; status: number }[] = [];
  /** Statuses for the next configuration requests, in order (then the document, or 304). */
  const configurationAnswers: number[] = [];
  /** Answers for the next reports, in order (then 202). */
  const reportAnswers: ReportAnswer[] = [];
  let down = false;
  let token = 'stream-token';
  const streamRequests: { token: string | null; lastEventId: string | undefined; status: number }[] = [];
  const etagOf = () => `"${createHash('sha256').update(JSON.stringify(document)).digest('base64url').slice(0, 20)}"`;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (down) {
      res.writeHead(503, { 'retry-after': '0' }).end();
      return;
    }
    if (url.pathname === '/events/stream') {
      const ok = url.searchParams.get('token') === token;
      streamRequests.push({
        token: url.searchParams.get('token'),
        lastEventId: req.headers['last-event-id'] as string | undefined,
        status: ok ? 200 : 401,
      });
      if (!ok) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(`retry: 50\nid: ${version}\n\n`);
      streams.add(res);
      res.on('close', () => streams.delete(res));
      return;
    }
    if (req.headers['x-api-key'] !== key) {
      res.writeHead(401).end();
      return;
    }
    if (url.pathname === '/sdk/v1/configuration' && req.method === 'GET') {
      const forced = configurationAnswers.shift();
      if (forced !== undefined) {
        configurationRequests.push({
          ifNoneMatch: req.headers['if-none-match'],
          flagConfigEtag: url.searchParams.get('flagConfigEtag'),
          status: forced,
        });
        res.writeHead(forced).end();
        return;
      }
      const etag = etagOf();
      const ifNoneMatch = req.headers['if-none-match'];
      const status = ifNoneMatch === etag ? 304 : 200;
      configurationRequests.push({ ifNoneMatch, flagConfigEtag: url.searchParams.get('flagConfigEtag'), status });
      if (status === 304) {
        res.writeHead(304, { etag }).end();
        return;
      }
      const body =
        options.stream === false
          ? document
          : {
              ...document,
              eventStreams: [{ type: 'sse', endpoint: { requestUri: `/events/stream?token=${token}` }, inactivityDelaySec: 120 }],
            };
      res.writeHead(200, { 'content-type': 'application/json', etag }).end(JSON.stringify(body));
      return;
    }
    if ((url.pathname === '/events/v1/evaluations' || url.pathname === '/events/v1/track') && req.method === 'POST') {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (text += chunk));
      req.on('end', () => {
        const answer = reportAnswers.shift() ?? { status: 202 };
        const record = (status: number) =>
          received.push({
            path: url.pathname,
            idempotencyKey: req.headers['idempotency-key'] as string | undefined,
            apiKey: req.headers['x-api-key'] as string | undefined,
            body: JSON.parse(text) as unknown,
            status,
          });
        if (answer === 'hang-up') {
          record(0);
          req.socket.destroy();
          return;
        }
        record(answer.status);
        const headers: Record<string, string> = {};
        if (answer.retryAfter !== undefined) headers['retry-after'] = String(answer.retryAfter);
        if (answer.status === 202) {
          res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: 1, batchId: 'b' }));
        } else if (answer.body !== undefined) {
          res.writeHead(answer.status, { ...headers, 'content-type': 'application/problem+json' }).end(JSON.stringify(answer.body));
        } else {
          res.writeHead(answer.status, headers).end();
        }
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    key,
    received,
    configurationRequests,
    streamRequests,
    configurationAnswers,
    reportAnswers,
    get streams() {
      return streams.size;
    },
    /** The reports of one route that the service accepted. */
    accepted(path: '/events/v1/evaluations' | '/events/v1/track') {
      return received.filter((r) => r.path === path && r.status === 202);
    },
    /** Serves a new document and tells the open streams (as the service's change events do). */
    publish(next: ConfigurationDocument, notify = true) {
      document = next;
      version += 1;
      if (!notify) return;
      const event = JSON.stringify({ type: 'refetchEvaluation', etag: `"v${version}"`, lastModified: Math.floor(Date.now() / 1000) });
      for (const stream of streams) stream.write(`id: v${version}\nevent: message\ndata: ${event}\n\n`);
    },
    /** Every request answered 503 (true) or served again (false); open streams are cut when it goes down. */
    setDown(value: boolean) {
      down = value;
      if (value) for (const stream of streams) stream.destroy();
    },
    /** The stream tokens given so far expire (the ETag stays: it covers the configuration, not the token). */
    rotateToken(next: string) {
      token = next;
    },
    endStreams() {
      for (const stream of streams) stream.end();
    },
    async close() {
      for (const stream of streams) stream.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type FakeService = Awaited<ReturnType<typeof fakeService>>;
