import type { FastifyRequest } from 'fastify';
import type { Credential } from '../../../shared/clients/service-client.ts';
import { type requireRole, bearerToken, type UserRole } from '../../../shared/http/authenticate.ts';
import type { FlagService } from '../flag-service.ts';

export interface FlagRouteDeps {
  service: FlagService;
  environments: readonly string[];
  guard: (minimum: UserRole) => ReturnType<typeof requireRole>;
}

/** The caller's own token, passed on when the flags service asks targeting about a flag's rules. */
export function callerCredential(request: FastifyRequest): Credential {
  return { bearer: bearerToken(request) ?? '' };
}
