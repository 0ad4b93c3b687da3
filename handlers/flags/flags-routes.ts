import type { FastifyRequest } from 'fastify';
import type { Credential } from '../../shared/clients/service-client.ts';
import { bearerToken, requireRole, type TokenVerifier, type UserRole } from '../../shared/http/authenticate.ts';
import type { App } from '../../shared/http/server.ts';
import type { FlagService } from './flag-service.ts';
import { listFlags } from './routes/list-flags.ts';
import { createFlag } from './routes/create-flag.ts';
import { getFlag } from './routes/get-flag.ts';
import { updateFlag } from './routes/update-flag.ts';
import { deleteFlag } from './routes/delete-flag.ts';
import { updateFlagEnvironment } from './routes/update-flag-environment.ts';
import { getFlagHistory } from './routes/get-flag-history.ts';
import { listEnvironments } from './routes/list-environments.ts';

export interface FlagRouteDeps {
  service: FlagService;
  environments: readonly string[];
  guard: (minimum: UserRole) => ReturnType<typeof requireRole>;
}

/** The caller's own token, passed on when the flags service asks targeting about a flag's rules. */
export function callerCredential(request: FastifyRequest): Credential {
  return { bearer: bearerToken(request) ?? '' };
}

export function flagsRoutes(service: FlagService, environments: readonly string[], verifier: TokenVerifier) {
  const deps: FlagRouteDeps = { service, environments, guard: (minimum) => requireRole(verifier, minimum) };
  return (app: App) => {
    for (const route of [listEnvironments, listFlags, createFlag, getFlag, updateFlag, deleteFlag, updateFlagEnvironment, getFlagHistory]) route(app, deps);
  };
}
