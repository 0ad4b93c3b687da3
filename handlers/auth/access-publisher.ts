import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { SdkKeyRecord, UserAccess } from '../../shared/contracts/access-model.ts';
import type { UserRole } from '../../shared/http/authenticate.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { allPages, startChangePublisher } from '../../shared/propagation/change-publisher.ts';
import type { ConfigCache } from '../../shared/propagation/config-cache.ts';
import type { ApiKey, AuthStore, User } from './auth-store.ts';

const sdkKeyRecord = (key: ApiKey): SdkKeyRecord => ({
  id: key.id,
  hash: key.keyHash,
  project: key.project,
  environment: key.environment,
  kind: key.kind,
  revoked: key.revokedAt !== null,
});
const userAccess = (user: User, projects: Record<string, UserRole> = {}): UserAccess => ({
  id: user.id,
  role: user.role,
  disabled: user.disabled,
  projects,
});

/**
 * Publishes who may call the platform: each SDK key (its hash, project, environment, kind, revocation) and each
 * user's current role, standing and project memberships, as they are now, to the configuration cache; every service
 * holds a copy (the access replica) and admits keys and tokens from it without calling auth.
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
          return user && userAccess(user, (await store.projectRolesOf([user.id])).get(user.id));
        },
        put: (cache, access) => cache.putUserAccess(access),
        remove: (cache, change) => cache.removeUserAccess(change.id),
        all: async function* () {
          // A page of users, then their memberships in one query.
          const pages = allPages(async (after) => {
            const page = await store.listUsers({ limit: 500, after });
            const roles = await store.projectRolesOf(page.items.map((user) => user.id));
            return { items: page.items.map((user) => userAccess(user, roles.get(user.id))), nextCursor: page.nextCursor };
          });
          for await (const access of pages) yield [{ kind: 'user', id: access.id }, access] as const;
        },
        cached: async (cache) => (await cache.getUsersAccess()).map((access) => ({ kind: 'user', id: access.id }) as const),
      },
    },
  });
}
