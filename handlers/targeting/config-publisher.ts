import type pg from 'pg';
import type { Registry } from 'prom-client';
import type { Rule } from '../../shared/contracts/targeting-model.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { startChangePublisher } from '../../shared/propagation/change-publisher.ts';
import type { ConfigCache } from '../../shared/propagation/config-cache.ts';
import type { StoredRule, StoredSegment, TargetingStore } from './targeting-store.ts';

const asRule = ({ createdAt: _c, updatedAt: _u, ...rule }: StoredRule): Rule => rule;
const asSegment = ({ createdAt: _c, updatedAt: _u, version: _v, ...segment }: StoredSegment) => segment;

/**
 * Publishes the targeting service's changes to the configuration cache: the rules of a flag in an environment
 * (as one list: a flag without rules has an empty one), and each segment, as they are now. A rule needs no project
 * (its flag's is published with the flag); a segment carries its own, so that evaluation can hand an SDK key (an
 * in-process SDK's configuration) the segments of its project only — their lists of users included.
 */
export function startTargetingPublisher(deps: {
  pool: pg.Pool;
  schema: string;
  store: TargetingStore;
  cache: ConfigCache;
  logger: Logger;
  metrics: Registry;
}) {
  const { store } = deps;
  return startChangePublisher(deps, {
    owner: 'targeting',
    entries: {
      rules: {
        current: async ({ environment, flagKey }) => ({
          environment,
          flagKey,
          rules: (await store.listRules({ flagKey, environment })).map(asRule),
        }),
        put: (cache, { environment, flagKey, rules }) => cache.putRules(environment, flagKey, rules),
        remove: (cache, { environment, flagKey }) => cache.putRules(environment, flagKey, []),
        all: async function* () {
          const groups = Map.groupBy(await store.listRules({}), (rule) => `${rule.environment}\u0000${rule.flagKey}`);
          for (const rules of groups.values()) {
            const { environment, flagKey } = rules[0]!;
            yield [
              { kind: 'rules', environment, flagKey },
              { environment, flagKey, rules: rules.map(asRule) },
            ] as const;
          }
        },
      },
      segment: {
        current: async (change) => {
          const segment = await store.getSegment(change.key);
          return segment && asSegment(segment);
        },
        put: (cache, segment) => cache.putSegment(segment),
        remove: (cache, change) => cache.removeSegment(change.key),
        all: async function* () {
          for (const segment of await store.listSegments()) yield [{ kind: 'segment', key: segment.key }, asSegment(segment)] as const;
        },
        cached: async (cache) => (await cache.getSegments()).map((segment) => ({ kind: 'segment', key: segment.key }) as const),
      },
    },
  });
}
