/** One event of a Server-Sent Events stream (the fields of the W3C format the provider uses). */
export interface ServerSentEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Parses a `text/event-stream` body as it arrives (lines end with CRLF, LF or CR; a blank line dispatches the
 * event; comments are only activity). `onRetry` hears a `retry:` field, `onActivity` any bytes at all.
 */
export class EventStreamParser {
  #buffer = '';
  #data: string[] = [];
  #event = '';
  /** The `id` field's buffer, and the last event id (set from it at every blank line, with or without data: W3C). */
  #idBuffer: string | undefined;
  #lastEventId: string | undefined;
  #sawCr = false;

  readonly #handlers: { onEvent: (event: ServerSentEvent) => void; onRetry?: (ms: number) => void };

  constructor(handlers: { onEvent: (event: ServerSentEvent) => void; onRetry?: (ms: number) => void }) {
    this.#handlers = handlers;
  }

  push(chunk: string): void {
    let text = chunk;
    // A CR that ended the previous chunk may be the first half of a CRLF.
    if (this.#sawCr && text.startsWith('\n')) text = text.slice(1);
    this.#sawCr = text.endsWith('\r');
    this.#buffer += text;
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      const code = this.#buffer.charCodeAt(i);
      if (code !== 10 && code !== 13) continue;
      this.#line(this.#buffer.slice(start, i));
      if (code === 13 && this.#buffer.charCodeAt(i + 1) === 10) i += 1;
      start = i + 1;
    }
    this.#buffer = this.#buffer.slice(start);
  }

  #line(line: string): void {
    if (line === '') {
      this.#lastEventId = this.#idBuffer;
      if (this.#data.length > 0)
        this.#handlers.onEvent({ id: this.#lastEventId, event: this.#event || 'message', data: this.#data.join('\n') });
      this.#data = [];
      this.#event = '';
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#idBuffer = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#handlers.onRetry?.(Number(value));
        break;
    }
  }

  /** The last event id seen (sent back as `Last-Event-ID` on reconnection). */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }
}
