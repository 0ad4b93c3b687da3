import type { EntryChange } from '../propagation/config-change.ts';
import type { AuditedChange, AuditedTable, WriteOutcome } from './audited-write.ts';

const clone = <T>(value: T): T => structuredClone(value);

/** The in-memory twin of `auditedWrites` for unit tests: the same outcomes, the audit trail and changes kept in arrays. */
export function memoryAuditedWrites<A>() {
  const audit: (A & { id: number })[] = [];
  const changes: EntryChange[] = [];

  function record(write: AuditedChange<A>): void {
    for (const entry of write.audit) audit.push({ ...clone(entry), id: audit.length + 1 });
    changes.push(clone(write.change));
  }

  /** Runs `apply` and, if it wrote (answered true or 'ok'), records the write. */
  function write<R extends boolean | string>(change: AuditedChange<A>, apply: () => R): R {
    const outcome = apply();
    if (outcome === true || outcome === 'ok') record(change);
    return outcome;
  }

  /** A versioned table kept in `documents` (copies in, copies out). */
  function table<T extends { key: string; version: number }>(documents: Map<string, T>): AuditedTable<T, A> {
    const miss = (key: string): WriteOutcome => (documents.has(key) ? 'stale' : 'not-found');
    return {
      insert: async (document, change) =>
        write(change, () => {
          if (documents.has(document.key)) return false;
          documents.set(document.key, clone(document));
          return true;
        }),
      update: async (document, expectedVersion, change) =>
        write(change, () => {
          if (documents.get(document.key)?.version !== expectedVersion) return miss(document.key);
          documents.set(document.key, clone(document));
          return 'ok';
        }),
      delete: async (key, expectedVersion, change) =>
        write(change, () => {
          if (documents.get(key)?.version !== expectedVersion) return miss(key);
          documents.delete(key);
          return 'ok';
        }),
    };
  }

  return { audit, changes, write, table };
}
