import type { Project } from './project.ts';

/** The projects table: PostgreSQL in production, memory in unit tests. The default project is always there. */
export interface ProjectStore {
  /** By key. */
  list(): Promise<Project[]>;
  get(key: string): Promise<Project | undefined>;
  /** False when the key is taken. */
  insert(project: Project): Promise<boolean>;
  /** Replaces it if still at `expectedVersion`. */
  update(project: Project, expectedVersion: number): Promise<'ok' | 'stale' | 'not-found'>;
  /** 'in-use': flags (archived ones too), webhooks or change requests still name it (the foreign keys say so). */
  delete(key: string): Promise<'ok' | 'not-found' | 'in-use'>;
}
