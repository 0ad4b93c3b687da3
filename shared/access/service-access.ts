import type { Registry } from 'prom-client';
import type { ConfigCache } from '../propagation/config-cache.ts';
import type { Config } from '../config/config.ts';
import { jwksTokenVerifier, type TokenVerifier } from '../http/authenticate.ts';
import { createSdkKeyVerifier, type SdkKeyVerifier } from '../http/sdk-keys.ts';
import type { Logger } from '../logging/logger.ts';
import { createAccessReplica, type AccessReplica } from './access-replica.ts';

export interface ServiceAccess {
  replica: AccessReplica;
  /** Access tokens, judged by the user's current access as the replica knows it. */
  verifier: TokenVerifier;
  sdkKeys: SdkKeyVerifier;
}

/** How a service other than auth admits callers: from its access replica, never by asking auth per request. */
export async function startServiceAccess(deps: {
  config: Config;
  configCache: ConfigCache;
  logger: Logger;
  metrics: Registry;
}): Promise<ServiceAccess> {
  const replica = createAccessReplica({ cache: deps.configCache, logger: deps.logger, metrics: deps.metrics });
  await replica.start();
  return {
    replica,
    verifier: jwksTokenVerifier(deps.config, (userId) => replica.user(userId)),
    sdkKeys: createSdkKeyVerifier({ access: replica }),
  };
}
