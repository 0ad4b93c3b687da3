import type pg from 'pg';
import type { Registry } from 'prom-client';
import { AppError } from '../../shared/http/problem.ts';
import type { ConfigCache } from '../../shared/config-cache/config-cache.ts';
import { startOutboxRelay } from '../../shared/db/outbox-relay.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import type { FlagService } from './flag-service.ts';
import { toDocument } from './flag-store.ts';

/** Advisory lock id of the flags relay (one per service). */
const flagsRelayLock = 7_301_001;

/**
 * Publishes flag changes to the configuration cache: for each outbox message it writes the flag as it is now
 * (or removes it) and tells every evaluation instance. If the cache lost its entries, it rewrites all of them.
 */
export function startFlagsPublisher(deps: { pool: pg.Pool; schema: string; service: FlagService; cache: ConfigCache; logger: Logger; metrics?: Registry }) {
  const { service, cache } = deps;

  async function publishFlag(key: string): Promise<void> {
    // Only "not found" removes the flag; any other failure (a database blip) is thrown, and the row retried.
    const flag = await service.get(key).catch((error: unknown) => {
      if (error instanceof AppError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    });
    if (flag) await cache.putFlag(toDocument(flag));
    else await cache.removeFlag(key);
    await cache.publish({ kind: 'flag', key });
  }

  async function reseed(): Promise<void> {
    const present = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await service.list({ limit: 200, after });
      for (const flag of page.items) {
        present.add(flag.key);
        await cache.putFlag(toDocument(flag));
      }
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    for (const key of await cache.flagKeys()) if (!present.has(key)) await cache.removeFlag(key);
    await cache.markSeeded('flags');
    await cache.publish({ kind: 'reseeded', owner: 'flags' });
  }

  return startOutboxRelay({
    pool: deps.pool,
    schema: deps.schema,
    lockId: flagsRelayLock,
    logger: deps.logger,
    deliver: (row) => publishFlag(String(row.payload.flagKey)),
    needsReseed: async () => !(await cache.isSeeded('flags')),
    reseed,
    destinationHealthy: () => cache.ping(),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
}
