import { sql, type Kysely } from 'kysely';

/**
 * Archived flags (issue 18): deleting a flag archives it — the row, its history and its rules stay, it is marked
 * archived (when, by whom) and leaves evaluation; a restore clears the mark, a purge (admins) removes the row. Every
 * existing flag is active. The partial index serves the archived list (by key) without touching the active ones.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('flags')
    .addColumn('archived_at', 'timestamptz')
    .addColumn('archived_by_id', 'text')
    .addColumn('archived_by_email', 'text')
    .execute();
  await db.schema.createIndex('flags_archived').on('flags').column('key').where(sql.ref('archived_at'), 'is not', null).execute();
}
