import { defaultProject } from '../../../shared/contracts/project-model.ts';
import type { Project } from './project.ts';
import type { ProjectStore } from './project-store.ts';

/** Unit tests' projects; `inUse` stands for the foreign keys (flags, webhooks, change requests naming a project). */
export function createMemoryProjectStore(inUse: (key: string) => Promise<boolean> = async () => false): ProjectStore {
  const at = new Date(0);
  const projects = new Map<string, Project>([
    [defaultProject, { key: defaultProject, name: 'Default', description: '', createdAt: at, updatedAt: at, version: 1 }],
  ]);
  return {
    async list() {
      return [...projects.values()].sort((a, b) => (a.key < b.key ? -1 : 1)).map((p) => ({ ...p }));
    },
    async get(key) {
      const found = projects.get(key);
      return found && { ...found };
    },
    async insert(project) {
      if (projects.has(project.key)) return false;
      projects.set(project.key, { ...project });
      return true;
    },
    async update(project, expectedVersion) {
      const current = projects.get(project.key);
      if (!current) return 'not-found';
      if (current.version !== expectedVersion) return 'stale';
      projects.set(project.key, { ...project });
      return 'ok';
    },
    async delete(key) {
      if (!projects.has(key)) return 'not-found';
      if (await inUse(key)) return 'in-use';
      projects.delete(key);
      return 'ok';
    },
  };
}
