import type { Registry } from 'prom-client';
import type { ConfigCache } from '../propagation/config-cache.ts';
import type { ConfigChange } from '../propagation/config-change.ts';
import { followChanges, type ChangeFollower } from '../propagation/follow-changes.ts';
import type { SdkKeyRecord, UserAccess } from '../contracts/access-model.ts';
import type { Logger } from '../logging/logger.ts';

export interface AccessReplica {
  /** The key with this SHA-256 (hex), if auth published one; `undefined` also before the first load (see `loaded`). */
  sdkKey(hash: string): SdkKeyRecord | undefined;
  /** The key with this id, if auth published one (event-stream tokens name their key by id). */
  sdkKeyById(id: string): SdkKeyRecord | undefined;
  /** Runs `listener` with a key's id each time auth publishes a change to it (a revocation closes its streams). */
  onSdkKeyChange(listener: (id: string) => void): () => void;
  /** The user's current role and standing, if known here. */
  user(id: string): UserAccess | undefined;
  /** False until the whole set was read once: until then an unknown key proves nothing. */
  readonly loaded: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * This process's copy of who may call it: SDK keys and users' current access, as auth publishes them through its
 * outbox to the configuration cache. Checked on every request without any I/O; a change arrives within the same
 * second as configuration changes do, and the last good copy is kept while auth, its database or Redis is down.
 */
export function createAccessReplica(deps: { cache: ConfigCache; logger: Logger; metrics: Registry; retryMs?: number }): AccessReplica {
  const { cache, logger } = deps;
  const keysByHash = new Map<string, SdkKeyRecord>();
  const hashById = new Map<string, string>();
  const users = new Map<string, UserAccess>();
  let loaded = false;
  const keyListeners = new Set<(id: string) => void>();
  // Applies changes and reloads one after another, in the order heard, so an older read never overwrites a newer one.
  let follower: ChangeFollower | undefined;

  function putKey(record: SdkKeyRecord): void {
    const previous = hashById.get(record.id);
    if (previous !== undefined) keysByHash.delete(previous);
    keysByHash.set(record.hash, record);
    hashById.set(record.id, record.hash);
  }

  function removeKey(id: string): void {
    const previous = hashById.get(id);
    if (previous !== undefined) keysByHash.delete(previous);
    hashById.delete(id);
  }

  async function loadAll(): Promise<void> {
    // A cache that auth has not (re)seeded may lack keys: keep what we have rather than drop live keys.
    if (!(await cache.isSeeded('auth'))) throw new Error('the configuration cache holds no complete set of SDK keys and users yet');
    const [keys, accesses] = await Promise.all([cache.getSdkKeys(), cache.getUsersAccess()]);
    const before = [...hashById.keys()];
    keysByHash.clear();
    hashById.clear();
    for (const record of keys) putKey(record);
    // Any key may have changed while changes were not heard (a revoked one must close its streams).
    for (const id of before) for (const listener of keyListeners) listener(id);
    users.clear();
    for (const access of accesses) users.set(access.id, access);
    if (!loaded) logger.info({ sdkKeys: keys.length, users: accesses.length }, 'SDK keys and user access loaded');
    loaded = true;
  }

  async function apply(change: ConfigChange): Promise<void> {
    switch (change.kind) {
      case 'sdk-key': {
        const [record] = await cache.getSdkKeys([change.id]);
        if (record) putKey(record);
        else removeKey(change.id);
        for (const listener of keyListeners) listener(change.id);
        return;
      }
      case 'user': {
        const [access] = await cache.getUsersAccess([change.id]);
        if (access) users.set(access.id, access);
        else users.delete(change.id);
        return;
      }
      case 'reseeded':
        if (change.owner === 'auth') await loadAll();
        return;
      default:
        return;
    }
  }

  return {
    sdkKey: (hash) => keysByHash.get(hash),
    sdkKeyById(id) {
      const hash = hashById.get(id);
      return hash === undefined ? undefined : keysByHash.get(hash);
    },
    onSdkKeyChange(listener) {
      keyListeners.add(listener);
      return () => keyListeners.delete(listener);
    },
    user: (id) => users.get(id),
    get loaded() {
      return loaded;
    },
    async start() {
      follower = await followChanges({
        name: 'access',
        cache,
        logger,
        metrics: deps.metrics,
        apply,
        reload: loadAll,
        ...(deps.retryMs ? { retryMs: deps.retryMs } : {}),
      });
      // The first load; if the cache cannot give it yet, the follower keeps trying and `loaded` stays false.
      await follower.serially(loadAll);
    },
    async stop() {
      await follower?.stop();
    },
  };
}
