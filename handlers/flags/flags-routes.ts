import type { FastifyRequest } from 'fastify';
import type { Credential } from '../../shared/clients/service-client.ts';
import { bearerToken, requireReader, requireRole, type TokenVerifier, type UserRole } from '../../shared/http/authenticate.ts';
import type { SdkKeyVerifier } from '../../shared/http/sdk-keys.ts';
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
  /** Configuration reads: a viewer's token, or an SDK key (which sees its own environment only). */
  reader: ReturnType<typeof requireReader>;
}

/** The caller's own token, passed on when the flags service asks targeting about a flag's rules. */
export function callerCredential(request: FastifyRequest): Credential {
  return { bearer: bearerToken(request) ?? '' };
}

export function flagsRoutes(service: FlagService, environments: readonly string[], verifier: TokenVerifier, sdkKeys: SdkKeyVerifier) {
  const deps: FlagRouteDeps = { service, environments, guard: (minimum) => requireRole(verifier, minimum), reader: requireReader(verifier, sdkKeys) };
  return (app: App) => {
    for (const route of [listEnvironments, listFlags, createFlag, getFlag, updateFlag, deleteFlag, updateFlagEnvironment, getFlagHistory]) route(app, deps);
  };
}
