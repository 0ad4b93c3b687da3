import type { App } from '../http/server.ts';
import type { UserRole } from '../http/authenticate.ts';

/** A request as the API contract tests write it. */
export interface TestRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  payload?: string | object;
  headers?: Record<string, string>;
}

/** Injects a request as someone holding `role` (or nobody), with that role's bearer token. */
export function callAs(app: () => App, tokens: () => Record<UserRole, string>) {
  return (role: UserRole | null, request: TestRequest) =>
    app().inject({ ...request, headers: { ...(role ? { authorization: `Bearer ${tokens()[role]}` } : {}), ...request.headers } });
}
