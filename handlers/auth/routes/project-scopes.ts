import type { FastifyRequest } from 'fastify';
import type { ProjectOf } from '../../../shared/http/authenticate.ts';
import type { AuthService } from '../auth-service.ts';

// Params are checked by the route's schema after the guard runs: a malformed id names nothing (then answered 400).
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const param = (request: FastifyRequest, name: string): string => (request.params as Record<string, string | undefined>)[name] ?? '';

/** `:project` of the path: the project a members route is about. */
export const projectInPath: ProjectOf = (request) => param(request, 'project');

/** The project of the SDK key `:id` (undefined when there is no such key: the route answers 404). */
export const projectOfApiKeyInPath =
  (service: AuthService): ProjectOf =>
  async (request) => {
    const id = param(request, 'id');
    return uuid.test(id) ? service.projectOfApiKey(id) : undefined;
  };
