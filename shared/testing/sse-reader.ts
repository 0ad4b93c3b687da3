import { request, type IncomingMessage } from 'node:http';

/** One block of a Server-Sent Events stream, as the W3C format defines its fields (comments kept apart). */
export interface SseBlock {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comment?: string;
  at: number;
}

export interface SseConnection {
  status: number;
  headers: IncomingMessage['headers'];
  /** Every block received so far, in order. */
  blocks: SseBlock[];
  /** Resolves with the first block (received from now on, or already received after `from`) that `match` accepts. */
  next(match: (block: SseBlock) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<SseBlock>;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
}

function parseBlock(text: string): SseBlock {
  const block: SseBlock = { at: Date.now() };
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === '') block.comment = value;
    else if (field === 'data') block.data = block.data === undefined ? value : `${block.data}\n${value}`;
    else if (field === 'id' || field === 'event') block[field] = value;
    else if (field === 'retry') block.retry = Number(value);
  }
  return block;
}

/** Opens an event stream over plain HTTP (tests and benchmarks): what `EventSource` does, minus reconnecting. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      const blocks: SseBlock[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      let endStream: () => void = () => {};
      const ended = new Promise<void>((done) => (endStream = done));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
          blocks.push(parseBlock(buffer.slice(0, end)));
          buffer = buffer.slice(end + 2);
        }
        for (const wake of [...waiters]) wake();
      });
      res.on('close', () => {
        endStream();
        for (const wake of [...waiters]) wake();
      });
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        blocks,
        ended,
        next(match, options = {}) {
          const from = options.from ?? blocks.length;
          return new Promise((found, fail) => {
            const look = () => {
              const block = blocks.slice(from).find(match);
              if (block) {
                clearTimeout(timer);
                waiters.delete(look);
                found(block);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(look);
              fail(new Error(`no matching event within ${options.timeoutMs ?? 5_000} ms; received ${JSON.stringify(blocks.slice(from))}`));
            }, options.timeoutMs ?? 5_000);
            waiters.add(look);
            look();
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
