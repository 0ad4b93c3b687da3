import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Logger } from '../logging/logger.ts';
import type { ConfigCache } from './config-cache.ts';
import { entryKeyOf, type ConfigOwner, type EntryChange } from './config-change.ts';
import { startOutboxRelay } from './outbox-relay.ts';

/**
 * One kind of entry an owner publishes (flags, rules, segments, SDK keys, users): how to read it at the source and
 * how to write it to the configuration cache.
 */
export interface PublishedEntries<C extends EntryChange, V> {
  /** The entry as it is now; `undefined` only when it no longer exists (a failed read throws: never "gone"). */
  current(change: C): Promise<V | undefined>;
  put(cache: ConfigCache, value: V): Promise<void>;
  remove(cache: ConfigCache, change: C): Promise<void>;
  /** Every entry at the source, each with the change that names it: what a reseed writes. */
  all(): AsyncIterable<readonly [C, V]>;
  /** The entries of this kind the cache holds, so that a reseed removes those gone at the source. */
  cached?(cache: ConfigCache): Promise<C[]>;
}

type KindOf<K extends EntryChange['kind']> = Extract<EntryChange, { kind: K }>;

/**
 * What a service owns: its name, and for each kind of change its outbox records, how that entry is published
 * (`Values` maps each kind to the type of its entries; it is inferred from the declaration).
 */
export interface ChangeOwner<Values extends { [K in EntryChange['kind']]?: unknown }> {
  owner: ConfigOwner;
  entries: { [K in keyof Values & EntryChange['kind']]: PublishedEntries<KindOf<K>, Values[K]> };
}

/** The advisory lock of each owner's relay: one relay delivers an owner's outbox at a time, whatever the replicas. */
const relayLocks: Record<ConfigOwner, number> = { flags: 7_301_001, targeting: 7_301_002, auth: 7_301_003 };

/** A page-by-page listing read as one sequence (the source's own pagination, one page in memory at a time). */
export async function* allPages<T>(
  page: (after: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
): AsyncIterable<T> {
  let after: string | undefined;
  for (;;) {
    const { items, nextCursor } = await page(after);
    yield* items;
    if (!nextCursor) return;
    after = nextCursor;
  }
}

/**
 * Publishes an owner's changes to the configuration cache: for each change its outbox relays, it writes the entry
 * as it is now (or removes it when it no longer exists) and tells every instance, with the time the change
 * committed. When the cache lost the owner's entries, it rewrites all of them and says so.
 */
export function startChangePublisher<Values extends { [K in EntryChange['kind']]?: unknown }>(
  deps: { pool: pg.Pool; schema: string; cache: ConfigCache; logger: Logger; metrics: Registry },
  owned: ChangeOwner<Values>,
) {
  const { cache } = deps;

  async function deliver(change: EntryChange, committedAt: Date): Promise<void> {
    // Looked up by the change's own kind, so these entries take this change (the map's type cannot say so per key).
    const entries = (owned.entries as Partial<Record<EntryChange['kind'], PublishedEntries<EntryChange, unknown>>>)[change.kind];
    if (!entries) throw new Error(`the ${owned.owner} service does not publish "${change.kind}" changes`);
    const value = await entries.current(change);
    if (value === undefined) await entries.remove(cache, change);
    else await entries.put(cache, value);
    await cache.publish({ ...change, at: committedAt.toISOString() });
  }

  async function reseed(): Promise<void> {
    for (const entries of Object.values(owned.entries) as PublishedEntries<EntryChange, unknown>[]) {
      const present = new Set<string>();
      for await (const [change, value] of entries.all()) {
        present.add(entryKeyOf(change));
        await entries.put(cache, value);
      }
      for (const change of (await entries.cached?.(cache)) ?? []) if (!present.has(entryKeyOf(change))) await entries.remove(cache, change);
    }
    await cache.markSeeded(owned.owner);
    await cache.publish({ kind: 'reseeded', owner: owned.owner });
  }

  return startOutboxRelay({
    pool: deps.pool,
    schema: deps.schema,
    lockId: relayLocks[owned.owner],
    logger: deps.logger,
    metrics: deps.metrics,
    deliver,
    needsReseed: async () => !(await cache.isSeeded(owned.owner)),
    reseed,
    destinationHealthy: () => cache.ping(),
  });
}
