import { authHeaders, backoffMs, describe, sleep, timeoutSignal, urlOf, type OnceLogger, type Service } from './http.ts';
import { EventStreamParser } from './sse.ts';
import type { EventStream } from './types.ts';

/*
 * Keeping the configuration in sync (ToggleMaster's shared/contracts/sdk-api.ts): GET /sdk/v1/configuration with
 * its ETag, and the OFREP 0.3 event stream the document names, whose `refetchEvaluation` events say when to ask
 * again (with `flagConfigEtag`, so the instance answering waits until it has the change). Without a stream, or
 * while it is down, the configuration is polled; the stream is reconnected with back-off.
 */

export const configurationPath = '/sdk/v1/configuration';

export interface SyncOptions {
  service: Service;
  /** Follow the stream when the document names one. */
  stream: boolean;
  pollIntervalMs: number;
  minRetryMs: number;
  maxRetryMs: number;
  streamIdleTimeoutMs: number;
  log: OnceLogger;
  /** A new document (a 200): compiled and put in use by the provider; throws if it cannot be (the last good one stays). */
  onDocument: (document: unknown) => { eventStreams?: EventStream[] | undefined };
  /** The configuration in use is known to be current (a 200 or a 304, or the stream (re)opened). */
  onSynced: () => void;
  onStreaming: (open: boolean) => void;
}

export type FetchResult = 'changed' | 'unchanged' | 'failed' | 'refused';

/** The stream's URL: a full `url`, or `requestUri` joined to `origin` — or, without one, to the base URL (behind any proxy). */
export function streamUrlOf(baseUrl: string, stream: EventStream): string | undefined {
  if (stream.type !== 'sse') return undefined;
  if (typeof stream.url === 'string') return stream.url;
  const requestUri = stream.endpoint?.requestUri;
  if (typeof requestUri !== 'string') return undefined;
  const origin = stream.endpoint?.origin;
  return typeof origin === 'string' ? `${origin.replace(/\/+$/, '')}${requestUri}` : urlOf(baseUrl, requestUri);
}

export class ConfigurationSync {
  readonly #options: SyncOptions;
  readonly #abort = new AbortController();
  #etag: string | undefined;
  #streamUrl: string | undefined;
  #fetching: Promise<FetchResult> | undefined;
  /** A fetch asked for while one was running: made right after it, with the newest `flagConfigEtag`. */
  #next: { flagConfigEtag: string | undefined; promise: Promise<FetchResult> } | undefined;
  #streaming = false;
  /** The last read of the configuration failed: the poll loop tries again even with the stream open. */
  #lastFailed = false;
  #started = false;
  /** Wakes the poll loop (e.g. the stream closed: poll now rather than at the next interval). */
  #wakePoll: (() => void) | undefined;
  #wakeStream: (() => void) | undefined;
  #loops: Promise<unknown>[] = [];
  /** Set when the service refused the key (401/403): said by `initialize()` at once. */
  refusal: string | undefined;

  constructor(options: SyncOptions) {
    this.#options = options;
  }

  get etag(): string | undefined {
    return this.#etag;
  }

  get streaming(): boolean {
    return this.#streaming;
  }

  /** Starts polling and, once a document names one, following the stream. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#loops = [this.#pollLoop(), this.#streamLoop()];
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.#wakePoll?.();
    this.#wakeStream?.();
    await Promise.allSettled(this.#loops);
    await this.#fetching?.catch(() => undefined);
  }

  /**
   * Asks for the configuration (one request at a time: a request asked for meanwhile is made once, right after,
   * with the newest `flagConfigEtag`). `unconditional` leaves out If-None-Match (e.g. for a fresh stream URL).
   */
  refresh(flagConfigEtag?: string, unconditional = false): Promise<FetchResult> {
    if (!this.#fetching) {
      this.#fetching = this.#fetch(flagConfigEtag, unconditional).finally(() => (this.#fetching = undefined));
      return this.#fetching;
    }
    if (this.#next) {
      if (flagConfigEtag !== undefined) this.#next.flagConfigEtag = flagConfigEtag;
      return this.#next.promise;
    }
    const next: { flagConfigEtag: string | undefined; promise: Promise<FetchResult> } = {
      flagConfigEtag,
      promise: this.#fetching.then(() => {
        this.#next = undefined;
        return this.refresh(next.flagConfigEtag, unconditional);
      }),
    };
    this.#next = next;
    return next.promise;
  }

  /** Never rejects: whatever goes wrong is a failed sync (logged once), and the copy in use stays. */
  async #fetch(flagConfigEtag: string | undefined, unconditional: boolean): Promise<FetchResult> {
    let result: FetchResult;
    try {
      result = await this.#fetchOnce(flagConfigEtag, unconditional);
    } catch (error) {
      this.#options.log.warn(
        'config-unreachable',
        `ToggleMaster: the configuration could not be read (${describe(error)}); answering from the copy in use`,
      );
      result = 'failed';
    }
    this.#lastFailed = result === 'failed' || result === 'refused';
    return result;
  }

  async #fetchOnce(flagConfigEtag: string | undefined, unconditional: boolean): Promise<FetchResult> {
    const { service, log } = this.#options;
    const query = flagConfigEtag === undefined ? '' : `?flagConfigEtag=${encodeURIComponent(flagConfigEtag)}`;
    const headers: Record<string, string> = { ...authHeaders(service), accept: 'application/json' };
    if (this.#etag !== undefined && !unconditional) headers['if-none-match'] = this.#etag;
    let response: Response;
    try {
      response = await service.fetch(urlOf(service.baseUrl, configurationPath + query), {
        headers,
        signal: timeoutSignal(service.requestTimeoutMs, this.#abort.signal),
      });
    } catch (error) {
      if (!this.#abort.signal.aborted)
        log.warn(
          'config-unreachable',
          `ToggleMaster: the configuration could not be read (${describe(error)}); answering from the copy in use`,
        );
      return 'failed';
    }
    if (response.status === 304) {
      await response.body?.cancel();
      this.#synced();
      return 'unchanged';
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      if (response.status === 401 || response.status === 403) {
        this.refusal = `the evaluation service refused the SDK key (HTTP ${response.status}): the configuration needs a server key of the environment`;
        log.error('config-refused', `ToggleMaster: ${this.refusal}`);
        return 'refused';
      }
      log.warn(
        'config-unreachable',
        `ToggleMaster: the configuration could not be read (HTTP ${response.status} ${text.slice(0, 200)}); answering from the copy in use`,
      );
      return 'failed';
    }
    let document: unknown;
    try {
      document = await response.json();
      const { eventStreams } = this.#options.onDocument(document);
      this.#streamUrl = undefined;
      for (const stream of eventStreams ?? []) {
        this.#streamUrl ??= streamUrlOf(service.baseUrl, stream);
      }
    } catch (error) {
      log.error(
        'config-invalid',
        `ToggleMaster: the configuration received could not be used (${describe(error)}); keeping the copy in use`,
      );
      return 'failed';
    }
    log.reset('config-invalid');
    this.#etag = response.headers.get('etag') ?? undefined;
    this.#synced();
    this.#wakeStream?.();
    return 'changed';
  }

  #synced(): void {
    this.refusal = undefined;
    this.#options.log.reset('config-refused');
    if (this.#options.log.reset('config-unreachable')) this.#options.log.logger.info('ToggleMaster: the configuration is read again');
    this.#options.onSynced();
  }

  /** Until a first document: at once and then with back-off; after that, every interval while no stream is open. */
  async #pollLoop(): Promise<void> {
    let failures = 0;
    while (!this.#abort.signal.aborted) {
      let wait = this.#options.pollIntervalMs;
      // With the stream open, only a read that failed (after a change event) is tried again from here.
      if (!this.#streaming || this.#lastFailed) {
        const result = await this.refresh();
        failures = result === 'changed' || result === 'unchanged' ? 0 : failures + 1;
        if (failures > 0)
          wait = Math.min(this.#options.pollIntervalMs, backoffMs(failures, this.#options.minRetryMs, this.#options.maxRetryMs));
      }
      const pause = sleep(wait, this.#abort.signal);
      this.#wakePoll = pause.wake;
      await pause.done;
      this.#wakePoll = undefined;
    }
  }

  /** Follows the stream the document names; reconnects with back-off (or the server's `retry`). */
  async #streamLoop(): Promise<void> {
    if (!this.#options.stream) return;
    let failures = 0;
    let lastEventId: string | undefined;
    let serverRetryMs: number | undefined;
    while (!this.#abort.signal.aborted) {
      const url = this.#streamUrl;
      if (url === undefined) {
        // No stream (yet): wait for a document that names one.
        const pause = sleep(60_000, this.#abort.signal);
        this.#wakeStream = pause.wake;
        await pause.done;
        this.#wakeStream = undefined;
        continue;
      }
      const outcome = await this.#follow(
        url,
        lastEventId,
        (id) => (lastEventId = id),
        (ms) => (serverRetryMs = ms),
      );
      if (this.#abort.signal.aborted) return;
      if (outcome === 'ended') failures = 0;
      else failures += 1;
      // A refused stream URL holds a token that expired (or a key revoked): a fresh document brings a new one.
      if (outcome === 'refused') await this.refresh(undefined, true);
      const wait =
        outcome === 'ended' && serverRetryMs !== undefined
          ? serverRetryMs
          : backoffMs(Math.max(1, failures), this.#options.minRetryMs, this.#options.maxRetryMs);
      const pause = sleep(wait, this.#abort.signal);
      await pause.done;
    }
  }

  /** One connection to the stream, until it ends or fails. */
  async #follow(
    url: string,
    lastEventId: string | undefined,
    onId: (id: string | undefined) => void,
    onRetry: (ms: number) => void,
  ): Promise<'ended' | 'failed' | 'refused'> {
    const { service, log } = this.#options;
    const connection = new AbortController();
    const signal = AbortSignal.any([connection.signal, this.#abort.signal]);
    let idle: NodeJS.Timeout | undefined;
    let parser: EventStreamParser | undefined;
    const stillAlive = () => {
      clearTimeout(idle);
      idle = setTimeout(() => connection.abort(new Error('the stream sent nothing for too long')), this.#options.streamIdleTimeoutMs);
    };
    try {
      stillAlive();
      const headers: Record<string, string> = { accept: 'text/event-stream', 'cache-control': 'no-cache' };
      if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
      // The URL's token authorizes the stream (the key is not sent: the stream may live on another origin).
      const response = await service.fetch(url, { headers, signal });
      if (!response.ok || !response.body) {
        await response.body?.cancel();
        log.warn('stream-down', `ToggleMaster: the change stream could not be opened (HTTP ${response.status}); polling meanwhile`);
        return response.status === 401 || response.status === 403 ? 'refused' : 'failed';
      }
      this.#setStreaming(true);
      if (log.reset('stream-down')) log.logger.info('ToggleMaster: the change stream is open again');
      // Whatever changed while the stream was closed: asked for once (a 304 when nothing did).
      void this.refresh();
      parser = new EventStreamParser({
        onEvent: (event) => {
          let data: { type?: unknown; etag?: unknown };
          try {
            data = JSON.parse(event.data) as typeof data;
          } catch {
            return;
          }
          if (data?.type !== 'refetchEvaluation') return;
          // A read that fails is tried again by the poll loop (with back-off) until one succeeds.
          void this.refresh(typeof data.etag === 'string' ? data.etag : undefined).then((result) => {
            if (result === 'failed') this.#wakePoll?.();
          });
        },
        onRetry,
      });
      const decoder = new TextDecoder();
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        stillAlive();
        parser.push(decoder.decode(chunk, { stream: true }));
      }
      return 'ended';
    } catch (error) {
      if (!this.#abort.signal.aborted)
        log.warn('stream-down', `ToggleMaster: the change stream failed (${describe(signal.reason ?? error)}); polling meanwhile`);
      return 'failed';
    } finally {
      // The id of the last event — or of the version the stream said it started from — goes with the reconnection.
      if (parser?.lastEventId !== undefined) onId(parser.lastEventId);
      clearTimeout(idle);
      connection.abort();
      this.#setStreaming(false);
    }
  }

  #setStreaming(open: boolean): void {
    if (this.#streaming === open) return;
    this.#streaming = open;
    this.#options.onStreaming(open);
    if (open) this.#options.onSynced();
    // The stream closed: poll now, and at the interval until it is back.
    else this.#wakePoll?.();
  }
}
