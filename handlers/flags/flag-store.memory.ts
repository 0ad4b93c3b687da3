import { memoryAuditedWrites } from '../../shared/db/audited-write.memory.ts';
import type { Flag, FlagStore, NewAuditEntry } from './flag-store.ts';

/** The same contract as the PostgreSQL store, in memory, for unit tests. Documents are copied in and out. */
export function createMemoryFlagStore(): FlagStore {
  const flags = new Map<string, Flag>();
  const audited = memoryAuditedWrites<NewAuditEntry>();
  const table = audited.table(flags);
  const clone = <T>(value: T): T => structuredClone(value);

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
        Object.entries(f.environments).flatMap(([environment, state]) =>
          state.prerequisites.map((prerequisite) => ({ flagKey: f.key, environment, prerequisite: clone(prerequisite) })),
        ),
      );
    },
    create: (flag, write) => table.insert(flag, write),
    update: (flag, expectedVersion, write) => table.update(flag, expectedVersion, write),
    delete: (key, expectedVersion, write) => table.delete(key, expectedVersion, write),
    async history(key, { limit, before }) {
      const entries = audited.audit.filter((e) => e.flagKey === key && (before === undefined || e.id < before)).reverse();
      const items = entries.slice(0, limit).map(clone);
      return { items, nextCursor: entries.length > limit ? String(items.at(-1)?.id) : null };
    },
  };
}
