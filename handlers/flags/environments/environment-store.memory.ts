import type { Environment } from './environment.ts';
import type { EnvironmentStore } from './environment-store.ts';

export function createMemoryEnvironmentStore(): EnvironmentStore {
  const rows = new Map<string, Environment>();
  const clone = <T>(value: T): T => structuredClone(value);
  return {
    async list() {
      return [...rows.values()].sort((a, b) => a.position - b.position || a.key.localeCompare(b.key)).map(clone);
    },
    async seed(environments) {
      if (rows.size > 0) return;
      for (const environment of environments) rows.set(environment.key, clone(environment));
    },
    async insert(environment) {
      if (rows.has(environment.key)) return false;
      rows.set(environment.key, clone(environment));
      return true;
    },
    async update(environment, expectedVersion) {
      const current = rows.get(environment.key);
      if (!current) return 'not-found';
      if (current.version !== expectedVersion) return 'stale';
      rows.set(environment.key, clone(environment));
      return 'ok';
    },
    async reorder(keys, at) {
      keys.forEach((key, position) => {
        const current = rows.get(key);
        if (current) rows.set(key, { ...current, position, updatedAt: at, version: current.version + 1 });
      });
    },
    async delete(key) {
      return rows.delete(key);
    },
  };
}
