import type { Kysely } from 'kysely';

/**
 * Projects (issue 18): a segment belongs to one (`default` holds all that exist); a rule belongs to its flag's, so it
 * needs no column. Each audit entry records the project it was written in, so a history is read only by members of
 * that project — also once its flag was purged or its segment deleted. Online: a column with a constant default is
 * added without rewriting the table (PostgreSQL ≥ 11), so the lock lasts milliseconds whatever the number of rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of ['segments', 'targeting_audit']) {
    await db.schema
      .alterTable(table)
      .addColumn('project', 'text', (c) => c.notNull().defaultTo('default'))
      .execute();
  }
  // A project's segments by key (its list), a project's history newest first.
  await db.schema.createIndex('segments_by_project').on('segments').columns(['project', 'key']).execute();
  await db.schema.createIndex('targeting_audit_by_project').on('targeting_audit').columns(['project', 'id']).execute();
}
