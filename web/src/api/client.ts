/**
 * The one way the console talks to the services: same origin (the console server proxies the API prefixes),
 * the access token as a bearer, problem+json errors turned into ApiError, and a 401 ending the session.
 */

export interface FieldError {
  path: string;
  message: string;
}

/** A failed call, with what the service said (problem+json) or what went wrong on the way. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly errors: FieldError[];
  readonly requestId: string | undefined;

  constructor(status: number, code: string, detail: string, errors: FieldError[] = [], requestId?: string) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.errors = errors;
    this.requestId = requestId;
  }
}

const storageKey = 'togglemaster.session';

interface StoredSession {
  token: string;
  expiresAt: number;
}

let session: StoredSession | undefined = readStored();
const unauthorizedListeners = new Set<() => void>();
const activityListeners = new Set<(inFlight: number) => void>();
let inFlight = 0;

function readStored(): StoredSession | undefined {
  try {
    const raw = sessionStorage.getItem(storageKey);
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as Partial<StoredSession>;
    if (typeof parsed.token !== 'string' || typeof parsed.expiresAt !== 'number' || parsed.expiresAt <= Date.now()) return undefined;
    return { token: parsed.token, expiresAt: parsed.expiresAt };
  } catch {
    return undefined;
  }
}

export function currentToken(): string | undefined {
  if (session && session.expiresAt <= Date.now()) session = undefined;
  return session?.token;
}

/** Keeps the token in memory and in sessionStorage (this tab only, gone when it closes). */
export function setToken(token: string, expiresInSeconds: number): void {
  session = { token, expiresAt: Date.now() + expiresInSeconds * 1000 };
  try {
    sessionStorage.setItem(storageKey, JSON.stringify(session));
  } catch {
    // Storage refused (private mode): the session lives in memory only.
  }
}

export function clearToken(): void {
  session = undefined;
  try {
    sessionStorage.removeItem(storageKey);
  } catch {
    // nothing stored
  }
}

/** Called when a service answers 401 to a signed-in call: the session is over. */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** How many calls are on their way, for the page's progress bar. */
export function onActivity(listener: (inFlight: number) => void): () => void {
  activityListeners.add(listener);
  return () => activityListeners.delete(listener);
}

function setInFlight(delta: number): void {
  inFlight += delta;
  for (const listener of activityListeners) listener(inFlight);
}

export interface RequestOptions {
  body?: unknown;
  ifMatch?: string | undefined;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Send the access token (default). Sign-in and registration do not. */
  auth?: boolean;
}

export interface Answer<T> {
  data: T;
  status: number;
  etag: string | undefined;
}

export async function request<T>(method: string, path: string, options: RequestOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json', ...options.headers };
  const token = options.auth === false ? undefined : currentToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.ifMatch) headers['if-match'] = options.ifMatch;
  let response: Response;
  setInFlight(1);
  try {
    response = await fetch(path, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'NETWORK', 'The console could not reach the server. Check your connection and try again.');
  } finally {
    setInFlight(-1);
  }
  const text = await response.text();
  let parsed: unknown = undefined;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  if (!response.ok) {
    const problem = (parsed ?? {}) as { code?: unknown; detail?: unknown; errors?: unknown; requestId?: unknown };
    const error = new ApiError(
      response.status,
      typeof problem.code === 'string' ? problem.code : `HTTP_${response.status}`,
      typeof problem.detail === 'string' ? problem.detail : response.statusText || `The server answered ${response.status}`,
      Array.isArray(problem.errors) ? (problem.errors as FieldError[]) : [],
      typeof problem.requestId === 'string' ? problem.requestId : (response.headers.get('x-request-id') ?? undefined),
    );
    // A 401 on a call made as the signed-in person (with a token, or without one because it expired) ends the session.
    if (response.status === 401 && options.auth !== false) {
      clearToken();
      for (const listener of unauthorizedListeners) listener();
    }
    throw error;
  }
  return { data: parsed as T, status: response.status, etag: response.headers.get('etag') ?? undefined };
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
  post: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>('POST', path, { ...options, body }),
  put: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>('PUT', path, { ...options, body }),
  patch: <T>(path: string, body: unknown, options?: RequestOptions) => request<T>('PATCH', path, { ...options, body }),
  delete: <T = null>(path: string, options?: RequestOptions) => request<T>('DELETE', path, options),
};

/** A query string from the defined values only. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** "body/variants/1/value" → "variants › 2 › value": where in the form a field error points. */
export function fieldLabel(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== 'body' && p !== 'querystring' && p !== 'params' && p !== 'headers');
  if (parts.length === 0) return 'The request';
  return parts.map((p) => (/^\d+$/.test(p) ? `#${Number(p) + 1}` : p)).join(' › ');
}

/** A sentence a person understands, for any failure. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    switch (error.status) {
      case 0:
        return error.detail;
      case 401:
        return error.code === 'INVALID_CREDENTIALS'
          ? 'That email and password do not match an account.'
          : 'Your session has ended. Sign in again.';
      case 403:
        return /needs the \w+ role/.test(error.detail)
          ? `Your role does not allow this (${lowerFirst(error.detail)}).`
          : ensureStop(error.detail);
      case 412:
        return 'Someone else changed this since you opened it. Reload to see their change, then make yours again.';
      case 429:
        return 'Too many attempts in a short time. Wait a minute, then try again.';
      default:
        if (error.status >= 500) {
          const base = error.status === 503 ? error.detail : 'The server could not complete this.';
          return `${ensureStop(base)} Try again in a moment${error.requestId ? `; if it keeps failing, quote request id ${error.requestId}` : ''}.`;
        }
        return ensureStop(error.detail);
    }
  }
  if (error instanceof Error) return ensureStop(error.message);
  return 'Something went wrong.';
}

function lowerFirst(text: string): string {
  return text.length > 0 ? text[0]!.toLowerCase() + text.slice(1) : text;
}

function ensureStop(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
