import type { FastifyRequest } from 'fastify';
import { type requireRole, bearerToken, type UserRole } from '../../../shared/http/authenticate.ts';
import type { Credential } from '../../../shared/clients/service-client.ts';
import type { TargetingService } from '../targeting-service.ts';

export interface TargetingRouteDeps {
  service: TargetingService;
  guard: (minimum: UserRole) => ReturnType<typeof requireRole>;
}

/** The caller's own token, passed on when targeting asks the flags service about a flag. */
export function callerCredential(request: FastifyRequest): Credential {
  return { bearer: bearerToken(request) ?? '' };
}
