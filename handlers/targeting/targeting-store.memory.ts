import { memoryAuditedWrites } from '../../shared/db/audited-write.memory.ts';
import { segmentKeysOf } from '../../shared/contracts/targeting-model.ts';
import type {
  NewTargetingAuditEntry,
  SegmentHead,
  SegmentKeyChanges,
  StoredRule,
  StoredSegment,
  TargetingStore,
} from './targeting-store.ts';

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
  const headOf = ({ included, excluded, ...rest }: StoredSegment): SegmentHead => ({
    ...clone(rest),
    includedCount: included.length,
    excludedCount: excluded.length,
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
    async segmentVersion(key) {
      const segment = segments.get(key);
      return segment && { version: segment.version, project: segment.project };
    },
    async editSegmentKeys(key, expectedVersion, edits, { maxKeys, updatedAt, describe }) {
      const current = segments.get(key);
      if (!current) return { outcome: 'not-found' };
      if (current.version !== expectedVersion) return { outcome: 'stale' };
      const next: StoredSegment = { ...clone(current), version: current.version + 1, updatedAt };
      const keys: SegmentKeyChanges = { included: { added: [], removed: [] }, excluded: { added: [], removed: [] } };
      for (const list of ['included', 'excluded'] as const) {
        const had = new Set(current[list]);
        const remove = new Set(edits[list].remove);
        const add = [...new Set(edits[list].add)].filter((k) => !remove.has(k));
        keys[list] = { added: add.filter((k) => !had.has(k)), removed: [...remove].filter((k) => had.has(k)) };
        next[list] = [...had, ...keys[list].added].filter((k) => !remove.has(k));
      }
      if (Object.values(keys).every((list) => list.added.length === 0 && list.removed.length === 0))
        return { outcome: 'unchanged', segment: headOf(current) };
      const tooMany = (['included', 'excluded'] as const)
        .filter((list) => next[list].length > maxKeys)
        .map((list) => ({ list, size: next[list].length }));
      if (tooMany.length > 0) return { outcome: 'too-many', lists: tooMany };
      const saved = inOrder(next);
      audited.write(describe({ before: headOf(current), after: headOf(saved), keys }), () => {
        segments.set(key, saved);
        return 'ok';
      });
      return { outcome: 'ok', segment: headOf(saved) };
    },
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
