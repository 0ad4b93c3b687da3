import { Registry } from 'prom-client';
import type { IngestSender } from '../../shared/events/ingest-sender.ts';
import type { SdkKeyVerifier } from '../../shared/http/sdk-keys.ts';
import type { SdkKeyRecord } from '../../shared/contracts/access-model.ts';
import { createStreamHub } from '../evaluation/event-streams/stream-hub.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import type { ConfigCache } from '../../shared/propagation/config-cache.ts';
import { testConfig } from '../../shared/testing/config.ts';
import { createConfigurationReplica } from '../evaluation/configuration-replica.ts';
import { buildEvaluationApp } from '../evaluation/evaluation-app.ts';

export type EvaluationApp = Awaited<ReturnType<typeof buildEvaluationApp>>['app'];

/**
 * The evaluation service over a configuration cache the test filled, as if the owning services had published it
 * (they are not there): the cache marked complete, a replica started, the app built. For unit tests.
 */
export async function evaluationOnCache(
  cache: ConfigCache,
  options: {
    sdkKeys: SdkKeyVerifier;
    config?: Record<string, string>;
    ingest?: IngestSender;
    /** Serve OFREP event streams to these keys (shared/testing/sdk-keys.ts fixedSdkKeyRecords). */
    streamKeys?: SdkKeyRecord[];
  },
) {
  await cache.markSeeded('flags');
  await cache.markSeeded('targeting');
  const logger = createLogger('silent', 'evaluation');
  const replica = createConfigurationReplica({ cache, logger, metrics: new Registry() });
  await replica.start();
  const keyById = (id: string) => options.streamKeys?.find((key) => key.id === id);
  const eventStreams = options.streamKeys && {
    hub: createStreamHub({
      versions: replica.versions,
      access: { sdkKeyById: keyById, onSdkKeyChange: () => () => {} },
      logger,
      metrics: new Registry(),
      maxStreams: 100,
    }),
    keyById,
  };
  const { app } = await buildEvaluationApp({
    config: testConfig(options.config),
    logger,
    replica,
    cache,
    sdkKeys: options.sdkKeys,
    ...(options.ingest ? { ingest: options.ingest } : {}),
    ...(eventStreams ? { eventStreams } : {}),
  });
  return {
    app,
    replica,
    async close() {
      await app.close();
      await replica.stop();
    },
  };
}
