import { sql, type Kysely } from 'kysely';

/** Scheduled changes (the release worker applies them), and what caused an audited change (a schedule, or a person). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('scheduled_changes')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('flag_key', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('change', 'jsonb', (c) => c.notNull())
    .addColumn('run_at', 'timestamptz', (c) => c.notNull())
    .addColumn('planned_version', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'applied', 'conflicted', 'failed', 'cancelled')`))
    .addColumn('outcome', 'text')
    .addColumn('created_by_id', 'text', (c) => c.notNull())
    .addColumn('created_by_email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('closed_at', 'timestamptz')
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  // The release worker looks for pending changes by time; a flag's page lists its own.
  await db.schema
    .createIndex('scheduled_changes_due')
    .on('scheduled_changes')
    .column('run_at')
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema.createIndex('scheduled_changes_by_flag').on('scheduled_changes').columns(['flag_key', 'run_at']).execute();
  await db.schema.alterTable('flag_audit').addColumn('cause', 'jsonb').execute();
}
