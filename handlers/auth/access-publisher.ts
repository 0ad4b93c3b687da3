import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { ConfigCache } from '../../shared/config-cache/config-cache.ts';
import type { SdkKeyRecord, UserAccess } from '../../shared/contracts/access-model.ts';
import { startOutboxRelay } from '../../shared/db/outbox-relay.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import type { ApiKey, AuthStore, User } from './auth-store.ts';
import type { AccessChange } from './auth-store.postgres.ts';

/** Advisory lock id of the auth relay (one per service). */
const authRelayLock = 7_301_003;

const sdkKeyRecord = (key: ApiKey): SdkKeyRecord => ({ id: key.id, hash: key.keyHash, environment: key.environment, kind: key.kind, revoked: key.revokedAt !== null });
const userAccess = (user: User): UserAccess => ({ id: user.id, role: user.role, disabled: user.disabled });

function accessChangeOf(payload: Record<string, unknown>): AccessChange {
  const { kind, id } = payload;
  if ((kind === 'user' || kind === 'sdk-key') && typeof id === 'string') return { kind, id };
  throw new Error(`not an access change: ${JSON.stringify(payload)}`);
}

/**
 * Publishes who may call the platform: each SDK key (its hash, environment, kind, revocation) and each user's
 * current role and standing, as they are now, to the configuration cache; every service holds a copy (the access
 * replica) and admits keys and tokens from it without calling auth. If the cache lost its entries, rewrites all.
 */
export function startAccessPublisher(deps: { pool: pg.Pool; schema: string; store: AuthStore; cache: ConfigCache; logger: Logger; metrics?: Registry }) {
  const { store, cache } = deps;

  async function deliver(change: AccessChange): Promise<void> {
    if (change.kind === 'sdk-key') {
      const key = await store.findApiKeyById(change.id);
      if (key) await cache.putSdkKey(sdkKeyRecord(key));
      else await cache.removeSdkKey(change.id);
    } else {
      const user = await store.findUserById(change.id);
      if (user) await cache.putUserAccess(userAccess(user));
      else await cache.removeUserAccess(change.id);
    }
    await cache.publish(change);
  }

  async function reseed(): Promise<void> {
    const keys = await store.listApiKeys({ includeRevoked: true });
    for (const key of keys) await cache.putSdkKey(sdkKeyRecord(key));
    const keyIds = new Set(keys.map((k) => k.id));
    for (const cached of await cache.getSdkKeys()) if (!keyIds.has(cached.id)) await cache.removeSdkKey(cached.id);

    const userIds = new Set<string>();
    let after: string | undefined;
    for (;;) {
      const page = await store.listUsers({ limit: 500, after });
      for (const user of page.items) {
        userIds.add(user.id);
        await cache.putUserAccess(userAccess(user));
      }
      if (!page.nextCursor) break;
      after = page.nextCursor;
    }
    for (const cached of await cache.getUsersAccess()) if (!userIds.has(cached.id)) await cache.removeUserAccess(cached.id);
    await cache.markSeeded('auth');
    await cache.publish({ kind: 'reseeded', owner: 'auth' });
  }

  return startOutboxRelay({
    pool: deps.pool,
    schema: deps.schema,
    lockId: authRelayLock,
    logger: deps.logger,
    deliver: (row) => deliver(accessChangeOf(row.payload)),
    needsReseed: async () => !(await cache.isSeeded('auth')),
    reseed,
    destinationHealthy: () => cache.ping(),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
}
