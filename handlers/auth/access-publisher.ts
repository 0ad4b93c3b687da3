import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { SdkKeyRecord, UserAccess } from '../../shared/contracts/access-model.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { allPages, startChangePublisher } from '../../shared/propagation/change-publisher.ts';
import type { ConfigCache } from '../../shared/propagation/config-cache.ts';
import type { ApiKey, AuthStore, User } from './auth-store.ts';

const sdkKeyRecord = (key: ApiKey): SdkKeyRecord => ({
  id: key.id,
  hash: key.keyHash,
  environment: key.environment,
  kind: key.kind,
  revoked: key.revokedAt !== null,
});
const userAccess = (user: User): UserAccess => ({ id: user.id, role: user.role, disabled: user.disabled });

/**
 * Publishes who may call the platform: each SDK key (its hash, environment, kind, revocation) and each user's
 * current role and standing, as they are now, to the configuration cache; every service holds a copy (the access
 * replica) and admits keys and tokens from it without calling auth.
 */
export function startAccessPublisher(deps: {
  pool: pg.Pool;
  schema: string;
  store: AuthStore;
  cache: ConfigCache;
  logger: Logger;
  metrics: Registry;
}) {
  const { store } = deps;
  return startChangePublisher(deps, {
    owner: 'auth',
    entries: {
      'sdk-key': {
        current: async (change) => {
          const key = await store.findApiKeyById(change.id);
          return key && sdkKeyRecord(key);
        },
        put: (cache, record) => cache.putSdkKey(record),
        remove: (cache, change) => cache.removeSdkKey(change.id),
        all: async function* () {
          for (const key of await store.listApiKeys({ includeRevoked: true }))
            yield [{ kind: 'sdk-key', id: key.id }, sdkKeyRecord(key)] as const;
        },
        cached: async (cache) => (await cache.getSdkKeys()).map((record) => ({ kind: 'sdk-key', id: record.id }) as const),
      },
      user: {
        current: async (change) => {
          const user = await store.findUserById(change.id);
          return user && userAccess(user);
        },
        put: (cache, access) => cache.putUserAccess(access),
        remove: (cache, change) => cache.removeUserAccess(change.id),
        all: async function* () {
          for await (const user of allPages((after) => store.listUsers({ limit: 500, after })))
            yield [{ kind: 'user', id: user.id }, userAccess(user)] as const;
        },
        cached: async (cache) => (await cache.getUsersAccess()).map((access) => ({ kind: 'user', id: access.id }) as const),
      },
    },
  });
}
