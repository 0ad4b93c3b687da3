import type { StoredRule, StoredSegment, TargetingAuditEntry, TargetingStore, TargetingWrite } from './targeting-store.ts';

/** The same contract as the PostgreSQL store, in memory, for unit tests. Documents are copied in and out. */
export function createMemoryTargetingStore(): TargetingStore {
  const rules = new Map<string, StoredRule>();
  const segments = new Map<string, StoredSegment>();
  const audit: TargetingAuditEntry[] = [];
  const clone = <T>(value: T): T => structuredClone(value);
  const record = (write: TargetingWrite) => {
    for (const entry of write.audit) audit.push({ ...clone(entry), id: audit.length + 1 });
  };
  const segmentMiss = (key: string) => (segments.has(key) ? ('stale' as const) : ('not-found' as const));
  const byOrder = (a: StoredRule, b: StoredRule) =>
    a.environment.localeCompare(b.environment) || a.flagKey.localeCompare(b.flagKey) || a.priority - b.priority || a.id.localeCompare(b.id);

  return {
    async listRules({ flagKey, environment }) {
      return [...rules.values()].filter((r) => (!flagKey || r.flagKey === flagKey) && (!environment || r.environment === environment)).sort(byOrder).map(clone);
    },
    async getRule(id) {
      const rule = rules.get(id);
      return rule && clone(rule);
    },
    async saveRules(saved, write) {
      for (const rule of saved) rules.set(rule.id, clone(rule));
      record(write);
    },
    async deleteRule(id, write) {
      if (!rules.delete(id)) return false;
      record(write);
      return true;
    },
    async listSegments() {
      return [...segments.values()].sort((a, b) => a.key.localeCompare(b.key)).map(clone);
    },
    async getSegment(key) {
      const segment = segments.get(key);
      return segment && clone(segment);
    },
    async createSegment(segment, write) {
      if (segments.has(segment.key)) return false;
      segments.set(segment.key, clone(segment));
      record(write);
      return true;
    },
    async updateSegment(segment, expectedVersion, write) {
      if (segments.get(segment.key)?.version !== expectedVersion) return segmentMiss(segment.key);
      segments.set(segment.key, clone(segment));
      record(write);
      return 'ok';
    },
    async deleteSegment(key, expectedVersion, write) {
      if (segments.get(key)?.version !== expectedVersion) return segmentMiss(key);
      segments.delete(key);
      record(write);
      return 'ok';
    },
    async history({ flagKey, segmentKey, limit, before }) {
      const entries = audit
        .filter((e) => (!flagKey || e.flagKey === flagKey) && (!segmentKey || (e.entity === 'segment' && e.entityKey === segmentKey)) && (before === undefined || e.id < before))
        .reverse();
      const items = entries.slice(0, limit).map(clone);
      return { items, nextCursor: entries.length > limit ? String(items.at(-1)?.id) : null };
    },
  };
}
