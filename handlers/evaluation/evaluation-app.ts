import { createFlagsClient } from '../../shared/clients/flags-client.ts';
import { createTargetingClient } from '../../shared/clients/targeting-client.ts';
import type { ConfigCache } from '../../shared/config-cache/config-cache.ts';
import type { Config } from '../../shared/config/config.ts';
import { sdkKeyVerifierFor, type SdkKeyVerifier } from '../../shared/http/sdk-keys.ts';
import { createHttpServer } from '../../shared/http/server.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { listen, type ServiceContext, type StartedService } from '../../shared/runtime/service.ts';
import { createConfigurationReplica, type ConfigurationReplica } from './configuration-replica.ts';
import { evaluationRoutes } from './evaluation-routes.ts';

export async function buildEvaluationApp(deps: { config: Config; logger: Logger; replica: ConfigurationReplica; cache: ConfigCache; sdkKeys: SdkKeyVerifier }) {
  return createHttpServer({
    name: 'evaluation',
    title: 'ToggleMaster evaluation (with OFREP)',
    logger: deps.logger,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    trustProxy: deps.config.TRUST_PROXY,
    readiness: [
      // Without the cache, evaluation still answers from memory: degraded, not down.
      { name: 'config-cache', critical: false, check: () => deps.cache.ping() },
      { name: 'config-current', critical: false, check: async () => {
        if (deps.replica.behind) throw new Error('behind');
      } },
    ],
    routes: evaluationRoutes(deps.replica, deps.sdkKeys),
  });
}

export async function startEvaluation(ctx: ServiceContext): Promise<StartedService> {
  const logger = ctx.logger.child({ service: 'evaluation' });
  const replica = createConfigurationReplica({
    cache: ctx.configCache,
    flags: createFlagsClient(ctx.config.FLAGS_URL),
    targeting: createTargetingClient(ctx.config.TARGETING_URL),
    logger,
  });
  await replica.start();
  const served = await buildEvaluationApp({ config: ctx.config, logger, replica, cache: ctx.configCache, sdkKeys: sdkKeyVerifierFor(ctx.config) });
  return listen('evaluation', served, ctx, () => replica.stop());
}
