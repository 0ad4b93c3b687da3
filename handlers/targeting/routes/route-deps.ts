import type { FastifyRequest } from 'fastify';
import type { ProjectOf, requireRole, UserRole } from '../../../shared/http/authenticate.ts';
import type { TargetingService } from '../targeting-service.ts';
import type { TargetingScopes } from './project-scopes.ts';

export interface TargetingRouteDeps {
  service: TargetingService;
  /** The caller's role in the request's project (every targeting route is a project's). */
  guard: (minimum: UserRole, projectOf: ProjectOf) => ReturnType<typeof requireRole>;
  inProject: TargetingScopes;
  /**
   * For routes naming their flag in the body, hooks to spread into the route's options: before the body is read, the
   * caller must hold `minimum` in some project; once it is parsed, in the project of the flag it names.
   */
  guardFlagInBody: (minimum: UserRole) => {
    onRequest: ReturnType<typeof requireRole>;
    preValidation: (request: FastifyRequest) => Promise<void>;
  };
}
