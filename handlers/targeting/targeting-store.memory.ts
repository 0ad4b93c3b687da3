import { memoryAuditedWrites } from '../../shared/db/audited-write.memory.ts';
import { segmentKeysOf } from '../../shared/contracts/targeting-model.ts';
import type { NewTargetingAuditEntry, StoredRule, StoredSegment, TargetingStore } from './targeting-store.ts';

/** The same contract as the PostgreSQL store, in memory, for unit tests. Documents are copied in and out. */
export function createMemoryTargetingStore(): TargetingStore {
  const rules = new Map<string, StoredRule>();
  const segments = new Map<string, StoredSegment>();
  const audited = memoryAuditedWrites<NewTargetingAuditEntry>();
  const segmentTable = audited.table(segments);
  const clone = <T>(value: T): T => structuredClone(value);
  // As PostgreSQL answers them (collate "C": byte order, which JavaScript's sort keeps for keys outside the surrogates).
  const inOrder = (segment: StoredSegment): StoredSegment => ({
    ...segment,
    included: [...segment.included].sort(),
    excluded: [...segment.excluded].sort(),
  });
  const byOrder = (a: StoredRule, b: StoredRule) =>
    a.environment.localeCompare(b.environment) || a.flagKey.localeCompare(b.flagKey) || a.priority - b.priority || a.id.localeCompare(b.id);

  return {
    async listRules({ flagKey, environment }) {
      return [...rules.values()]
        .filter((r) => (!flagKey || r.flagKey === flagKey) && (!environment || r.environment === environment))
        .sort(byOrder)
        .map(clone);
    },
    async rulesUsingSegment(key) {
      return [...rules.values()]
        .filter((r) => r.segments.includes(key) || segmentKeysOf(r.conditions).includes(key))
        .sort(byOrder)
        .map(clone);
    },
    async getRule(id) {
      const rule = rules.get(id);
      return rule && clone(rule);
    },
    async saveRules(saved, write) {
      audited.write(write, () => {
        for (const rule of saved) rules.set(rule.id, clone(rule));
        return true;
      });
    },
    deleteRule: async (id, write) => audited.write(write, () => rules.delete(id)),
    async replaceRules({ flagKey, environment }, replacement, write) {
      audited.write(write, () => {
        for (const rule of [...rules.values()]) if (rule.flagKey === flagKey && rule.environment === environment) rules.delete(rule.id);
        for (const rule of replacement) rules.set(rule.id, clone(rule));
        return true;
      });
    },
    async listSegments({ project } = {}) {
      return [...segments.values()]
        .filter((s) => !project || s.project === project)
        .sort((a, b) => a.key.localeCompare(b.key))
        .map(clone);
    },
    async getSegment(key) {
      const segment = segments.get(key);
      return segment && clone(segment);
    },
    async getSegments(keys) {
      return [...new Set(keys)].flatMap((key) => {
        const segment = segments.get(key);
        return segment ? [clone(segment)] : [];
      });
    },
    createSegment: (segment, write) => segmentTable.insert(inOrder(segment), write),
    updateSegment: (segment, expectedVersion, write) => segmentTable.update(inOrder(segment), expectedVersion, write),
    deleteSegment: (key, expectedVersion, write) => segmentTable.delete(key, expectedVersion, write),
    async history({ project, flagKey, segmentKey, limit, before }) {
      const entries = audited.audit
        .filter(
          (e) =>
            e.project === project &&
            (!flagKey || e.flagKey === flagKey) &&
            (!segmentKey || (e.entity === 'segment' && e.entityKey === segmentKey)) &&
            (before === undefined || e.id < before),
        )
        .reverse();
      const items = entries.slice(0, limit).map(clone);
      return { items, nextCursor: entries.length > limit ? String(items.at(-1)?.id) : null };
    },
    async projectInHistory(about) {
      const newest = audited.audit.findLast((e) =>
        'flagKey' in about ? e.flagKey === about.flagKey : e.entity === 'segment' && e.entityKey === about.segmentKey,
      );
      return newest?.project;
    },
  };
}
