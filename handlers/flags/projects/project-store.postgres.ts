import type { Kysely, Selectable } from 'kysely';
import { isUniqueViolation } from '../../../shared/db/database.ts';
import type { Project } from './project.ts';
import type { ProjectStore } from './project-store.ts';

export interface ProjectsTable {
  key: string;
  name: string;
  description: string;
  created_at: Date;
  updated_at: Date;
  version: number;
}

const toProject = (r: Selectable<ProjectsTable>): Project => ({
  key: r.key,
  name: r.name,
  description: r.description,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  version: r.version,
});

const row = (p: Project): ProjectsTable => ({
  key: p.key,
  name: p.name,
  description: p.description,
  created_at: p.createdAt,
  updated_at: p.updatedAt,
  version: p.version,
});

/** PostgreSQL's foreign_key_violation: a row elsewhere still names the project. */
const isForeignKeyViolation = (error: unknown) => (error as { code?: string }).code === '23503';

export function createPostgresProjectStore(db: Kysely<{ projects: ProjectsTable }>): ProjectStore {
  return {
    async list() {
      return (await db.selectFrom('projects').selectAll().orderBy('key').execute()).map(toProject);
    },
    async get(key) {
      const found = await db.selectFrom('projects').selectAll().where('key', '=', key).executeTakeFirst();
      return found && toProject(found);
    },
    async insert(project) {
      try {
        await db.insertInto('projects').values(row(project)).execute();
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },
    async update(project, expectedVersion) {
      const updated = await db
        .updateTable('projects')
        .set(row(project))
        .where('key', '=', project.key)
        .where('version', '=', expectedVersion)
        .executeTakeFirst();
      if (updated.numUpdatedRows > 0n) return 'ok';
      return (await db.selectFrom('projects').select('key').where('key', '=', project.key).executeTakeFirst()) ? 'stale' : 'not-found';
    },
    async delete(key) {
      try {
        const deleted = await db.deleteFrom('projects').where('key', '=', key).executeTakeFirst();
        return deleted.numDeletedRows > 0n ? 'ok' : 'not-found';
      } catch (error) {
        if (isForeignKeyViolation(error)) return 'in-use';
        throw error;
      }
    },
  };
}
