import type pg from 'pg';
import type { Registry } from 'prom-client';
import { AppError } from '../../shared/http/problem.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { allPages, startChangePublisher } from '../../shared/propagation/change-publisher.ts';
import type { ConfigCache } from '../../shared/propagation/config-cache.ts';
import type { FlagService } from './flag-service.ts';
import { toDocument } from './flag-store.ts';

/** Publishes the flags service's changes: each flag document, as it is now, to the configuration cache. */
export function startFlagsPublisher(deps: {
  pool: pg.Pool;
  schema: string;
  service: FlagService;
  cache: ConfigCache;
  logger: Logger;
  metrics: Registry;
}) {
  const { service } = deps;
  return startChangePublisher(deps, {
    owner: 'flags',
    entries: {
      flag: {
        // Only "not found" or archived removes the flag (an archived flag is unknown to evaluation, as a purged one
        // is); any other failure (a database blip) is thrown, and the row retried.
        current: (change) =>
          service.get(change.key).then(
            (flag) => (flag.archivedAt ? undefined : flag),
            (error: unknown) => {
              if (error instanceof AppError && error.code === 'NOT_FOUND') return undefined;
              throw error;
            },
          ),
        put: (cache, flag) => cache.putFlag(toDocument(flag)),
        remove: (cache, change) => cache.removeFlag(change.key),
        // Active flags only: a reseed leaves the archived ones out, and removes any the cache still held.
        all: async function* () {
          for await (const flag of allPages((after) => service.list({ limit: 200, after })))
            yield [{ kind: 'flag', key: flag.key }, flag] as const;
        },
        cached: async (cache) => (await cache.flagKeys()).map((key) => ({ kind: 'flag', key }) as const),
      },
    },
  });
}
