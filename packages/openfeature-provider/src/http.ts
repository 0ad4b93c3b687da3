import type { ProviderLogger } from './types.ts';

/** The provider's view of the evaluation service: its base URL, the key, and how long a request may take. */
export interface Service {
  baseUrl: string;
  sdkKey: string | undefined;
  fetch: typeof fetch;
  requestTimeoutMs: number;
}

/** `<baseUrl><path>`, the base URL's own path kept (a service behind a proxy at `/flags/` works). */
export function urlOf(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

export function authHeaders(service: Service): Record<string, string> {
  return service.sdkKey === undefined ? {} : { 'x-api-key': service.sdkKey };
}

/** An AbortSignal that fires after `ms`, or with `also` (e.g. the provider closing), whichever is first. */
export function timeoutSignal(ms: number, also?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return also ? AbortSignal.any([timeout, also]) : timeout;
}

/** `Retry-After` in milliseconds (seconds or an HTTP date), if the answer has one. */
export function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get('retry-after');
  if (header === null) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** What became of a report (a batch of evaluations or tracking events) sent to the service. */
export type SendOutcome =
  | { kind: 'accepted' }
  /** Worth sending again, with the same Idempotency-Key (the service may have counted it; it will not twice). */
  | { kind: 'retry'; reason: string; afterMs?: number | undefined }
  /** Refused for good; `items` are the paths the service named as wrong (`/events/3`), if it named any. */
  | { kind: 'refused'; status: number; reason: string; items: string[] };

/** Whether an HTTP status is worth trying again: a timeout, a throttle, the service or a proxy in trouble. */
const transient = (status: number) => status === 408 || status === 425 || status === 429 || status >= 500;

/** POSTs a report; never throws. */
export async function postReport(
  service: Service,
  path: string,
  body: unknown,
  idempotencyKey: string,
  abort?: AbortSignal,
): Promise<SendOutcome> {
  let response: Response;
  try {
    response = await service.fetch(urlOf(service.baseUrl, path), {
      method: 'POST',
      headers: { ...authHeaders(service), 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body: JSON.stringify(body),
      signal: timeoutSignal(service.requestTimeoutMs, abort),
    });
  } catch (error) {
    return { kind: 'retry', reason: describe(error) };
  }
  const text = await response.text().catch(() => '');
  if (response.ok) return { kind: 'accepted' };
  if (transient(response.status)) return { kind: 'retry', reason: `HTTP ${response.status}`, afterMs: retryAfterMs(response) };
  let detail = '';
  const items: string[] = [];
  try {
    const problem = JSON.parse(text) as { detail?: unknown; title?: unknown; errors?: { path?: unknown }[] };
    detail = typeof problem.detail === 'string' ? problem.detail : typeof problem.title === 'string' ? problem.title : '';
    for (const error of Array.isArray(problem.errors) ? problem.errors : []) if (typeof error?.path === 'string') items.push(error.path);
  } catch {
    // Not problem+json: the status says it all.
  }
  return { kind: 'refused', status: response.status, reason: `HTTP ${response.status}${detail ? `: ${detail}` : ''}`, items };
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

/** Logs a message once per key (until `reset(key)`): an outage or a mistake is said once, not per request. */
export class OnceLogger {
  readonly #logged = new Set<string>();
  readonly logger: ProviderLogger;

  constructor(logger: ProviderLogger) {
    this.logger = logger;
  }

  warn(key: string, ...args: unknown[]): void {
    if (this.#logged.has(key)) return;
    this.#logged.add(key);
    this.logger.warn(...args);
  }

  error(key: string, ...args: unknown[]): void {
    if (this.#logged.has(key)) return;
    this.#logged.add(key);
    this.logger.error(...args);
  }

  /** Whether the key was logged (and forgets it, so the next problem is said again). */
  reset(key: string): boolean {
    return this.#logged.delete(key);
  }
}

/** Waits `ms`, or less if `wake` is called or `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): { done: Promise<void>; wake: () => void } {
  let wake: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    }
    wake = finish;
    signal?.addEventListener('abort', finish, { once: true });
  });
  return { done, wake };
}

/** Exponential back-off with jitter: attempt 1 waits about `min`, each next one twice as long, at most `max`. */
export function backoffMs(attempt: number, min: number, max: number): number {
  const base = Math.min(max, min * 2 ** Math.max(0, attempt - 1));
  return Math.round(base / 2 + Math.random() * (base / 2));
}
