import type { AuditEntry, Flag, FlagStore, WriteRecord } from './flag-store.ts';

/** The same contract as the PostgreSQL store, in memory, for unit tests. Documents are copied in and out. */
export function createMemoryFlagStore(): FlagStore {
  const flags = new Map<string, Flag>();
  const audit: AuditEntry[] = [];
  const outbox: WriteRecord['outbox'][] = [];
  const clone = <T>(value: T): T => structuredClone(value);
  const record = (write: WriteRecord) => {
    audit.push({ ...clone(write.audit), id: audit.length + 1 });
    outbox.push(clone(write.outbox));
  };
  const miss = (key: string) => (flags.has(key) ? ('stale' as const) : ('not-found' as const));

  return {
    async list({ tag, type, q, limit, after }) {
      const needle = q?.toLowerCase();
      const matches = [...flags.values()]
        .filter((f) => (!after || f.key > after) && (!type || f.type === type) && (!tag || f.tags.includes(tag)))
        .filter((f) => !needle || [f.key, f.name, f.description].some((text) => text.toLowerCase().includes(needle)))
        .sort((a, b) => (a.key < b.key ? -1 : 1));
      const items = matches.slice(0, limit).map(clone);
      return { items, nextCursor: matches.length > limit ? (items.at(-1)?.key ?? null) : null };
    },
    async get(key) {
      const flag = flags.get(key);
      return flag && clone(flag);
    },
    async prerequisiteEdges() {
      return [...flags.values()].flatMap((f) =>
        Object.entries(f.environments).flatMap(([environment, state]) => state.prerequisites.map((prerequisite) => ({ flagKey: f.key, environment, prerequisite: clone(prerequisite) }))),
      );
    },
    async create(flag, write) {
      if (flags.has(flag.key)) return false;
      flags.set(flag.key, clone(flag));
      record(write);
      return true;
    },
    async update(flag, expectedVersion, write) {
      if (flags.get(flag.key)?.version !== expectedVersion) return miss(flag.key);
      flags.set(flag.key, clone(flag));
      record(write);
      return 'ok';
    },
    async delete(key, expectedVersion, write) {
      if (flags.get(key)?.version !== expectedVersion) return miss(key);
      flags.delete(key);
      record(write);
      return 'ok';
    },
    async history(key, { limit, before }) {
      const entries = audit.filter((e) => e.flagKey === key && (before === undefined || e.id < before)).reverse();
      const items = entries.slice(0, limit).map(clone);
      return { items, nextCursor: entries.length > limit ? String(items.at(-1)?.id) : null };
    },
  };
}
