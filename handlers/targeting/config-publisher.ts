import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { ConfigCache } from '../../shared/config-cache/config-cache.ts';
import type { Rule } from '../../shared/contracts/targeting-model.ts';
import { startOutboxRelay } from '../../shared/db/outbox-relay.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import type { StoredRule, StoredSegment, TargetingStore } from './targeting-store.ts';

/** Advisory lock id of the targeting relay (one per service). */
const targetingRelayLock = 7_301_002;

const asRule = ({ createdAt: _c, updatedAt: _u, ...rule }: StoredRule): Rule => rule;
const asSegment = ({ createdAt: _c, updatedAt: _u, version: _v, ...segment }: StoredSegment) => segment;

/**
 * Publishes rule and segment changes to the configuration cache: the rules of the changed flag and environment
 * as they are now, or the segment as it is now, then a message to every evaluation instance.
 */
export function startTargetingPublisher(deps: { pool: pg.Pool; schema: string; store: TargetingStore; cache: ConfigCache; logger: Logger; metrics?: Registry }) {
  const { store, cache } = deps;

  async function deliver(payload: Record<string, unknown>): Promise<void> {
    if (payload.kind === 'rules') {
      const environment = String(payload.environment);
      const flagKey = String(payload.flagKey);
      await cache.putRules(environment, flagKey, (await store.listRules({ flagKey, environment })).map(asRule));
      await cache.publish({ kind: 'rules', environment, flagKey });
    } else if (payload.kind === 'segment') {
      const key = String(payload.key);
      const segment = await store.getSegment(key);
      if (segment) await cache.putSegment(asSegment(segment));
      else await cache.removeSegment(key);
      await cache.publish({ kind: 'segment', key });
    }
  }

  async function reseed(): Promise<void> {
    const groups = new Map<string, Rule[]>();
    for (const rule of await store.listRules({})) {
      const id = `${rule.environment}\u0000${rule.flagKey}`;
      groups.set(id, [...(groups.get(id) ?? []), asRule(rule)]);
    }
    for (const [id, rules] of groups) {
      const [environment = '', flagKey = ''] = id.split('\u0000');
      await cache.putRules(environment, flagKey, rules);
    }
    const segments = await store.listSegments();
    for (const segment of segments) await cache.putSegment(asSegment(segment));
    const present = new Set(segments.map((s) => s.key));
    for (const cached of await cache.getSegments()) if (!present.has(cached.key)) await cache.removeSegment(cached.key);
    await cache.markSeeded('targeting');
    await cache.publish({ kind: 'reseeded', owner: 'targeting' });
  }

  return startOutboxRelay({
    pool: deps.pool,
    schema: deps.schema,
    lockId: targetingRelayLock,
    logger: deps.logger,
    deliver: (row) => deliver(row.payload),
    needsReseed: async () => !(await cache.isSeeded('targeting')),
    reseed,
    destinationHealthy: () => cache.ping(),
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
  });
}
