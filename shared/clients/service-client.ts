import { AppError, errorStatus, type ErrorCode, type FieldError } from '../http/problem.ts';

/** How one service calls another on behalf of someone: the caller's bearer token. */
export type Credential = { bearer: string };

/**
 * GET a JSON document from another ToggleMaster service. 404 is `undefined`; the caller's own 401/403 come back
 * as the same problem; anything else (down, slow, 5xx) is a 503 for our caller, never a 500.
 */
export async function getJson<T>(baseUrl: string, path: string, credential: Credential, service: string): Promise<T | undefined> {
  let response: Response;
  try {
    response = await fetch(new URL(path, baseUrl), {
      headers: { accept: 'application/json', authorization: `Bearer ${credential.bearer}` },
      signal: AbortSignal.timeout(3_000),
    });
  } catch {
    throw new AppError('SERVICE_UNAVAILABLE', `The ${service} service does not answer`);
  }
  if (response.status === 404) return undefined;
  if (response.status === 401) throw new AppError('UNAUTHENTICATED', `The ${service} service refused the credentials`);
  if (response.status === 403) throw new AppError('FORBIDDEN', `The ${service} service refused: not allowed`);
  if (!response.ok) throw new AppError('SERVICE_UNAVAILABLE', `The ${service} service answered ${response.status}`);
  return (await response.json()) as T;
}

/**
 * DELETE a resource of another ToggleMaster service on behalf of someone: true when deleted, false when it was not
 * there (404); the caller's own 401/403 come back as the same problem, anything else is a 503.
 */
export async function deleteResource(baseUrl: string, path: string, credential: Credential, service: string): Promise<boolean> {
  let response: Response;
  try {
    response = await fetch(new URL(path, baseUrl), {
      method: 'DELETE',
      headers: { authorization: `Bearer ${credential.bearer}` },
      signal: AbortSignal.timeout(3_000),
    });
  } catch {
    throw new AppError('SERVICE_UNAVAILABLE', `The ${service} service does not answer`);
  }
  await response.body?.cancel();
  if (response.status === 404) return false;
  if (response.status === 401) throw new AppError('UNAUTHENTICATED', `The ${service} service refused the credentials`);
  if (response.status === 403) throw new AppError('FORBIDDEN', `The ${service} service refused: not allowed`);
  if (!response.ok) throw new AppError('SERVICE_UNAVAILABLE', `The ${service} service answered ${response.status}`);
  return true;
}

/**
 * Sends a JSON body to another ToggleMaster service on behalf of someone and answers its JSON. Its refusals (4xx
 * with a problem+json body) come back as the same problem, their detail prefixed with the service's name, so the
 * caller's client sees why; anything else (down, slow, 5xx, no problem body) is a 503 for our caller.
 */
export async function sendJson<T>(
  baseUrl: string,
  method: 'PUT' | 'POST',
  path: string,
  body: unknown,
  credential: Credential,
  service: string,
  headers: Record<string, string> = {},
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(new URL(path, baseUrl), {
      method,
      headers: { ...headers, accept: 'application/json', 'content-type': 'application/json', authorization: `Bearer ${credential.bearer}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(3_000),
    });
  } catch {
    throw new AppError('SERVICE_UNAVAILABLE', `The ${service} service does not answer`);
  }
  if (response.status === 401) throw new AppError('UNAUTHENTICATED', `The ${service} service refused the credentials`);
  if (response.status === 403) throw new AppError('FORBIDDEN', `The ${service} service refused: not allowed`);
  const text = await response.text().catch(() => '');
  let answer: unknown;
  try {
    answer = text ? JSON.parse(text) : undefined;
  } catch {
    throw new AppError('SERVICE_UNAVAILABLE', `The ${service} service answered ${response.status} with something that is not JSON`);
  }
  if (response.ok) return answer as T;
  // Untrusted until checked: a known code of a refusal (4xx) is passed on, with its detail and field errors.
  const problem = answer as { code?: unknown; detail?: unknown; errors?: unknown } | undefined;
  if (response.status < 500 && problem && typeof problem.code === 'string' && problem.code in errorStatus) {
    const code = problem.code as ErrorCode;
    const detail = typeof problem.detail === 'string' ? problem.detail : response.statusText;
    if (errorStatus[code] < 500)
      throw new AppError(code, `The ${service} service refused: ${detail}`, {
        ...(Array.isArray(problem.errors) ? { errors: problem.errors as FieldError[] } : {}),
      });
  }
  throw new AppError('SERVICE_UNAVAILABLE', `The ${service} service answered ${response.status}`);
}
