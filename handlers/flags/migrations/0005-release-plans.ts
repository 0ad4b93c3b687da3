import { sql, type Kysely } from 'kysely';

/** Release plans: a flag environment's release in milestones, advanced by the release worker. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('release_plans')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('flag_key', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('milestones', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('active', 'paused', 'completed', 'rolled-back')`))
    .addColumn('step', 'integer', (c) => c.notNull())
    .addColumn('start_serve', 'jsonb', (c) => c.notNull())
    .addColumn('next_at', 'timestamptz')
    .addColumn('awaiting_approval', 'boolean', (c) => c.notNull())
    .addColumn('approved_step', 'integer')
    .addColumn('paused_remaining_ms', 'integer')
    .addColumn('flag_version', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .addColumn('created_by_id', 'text', (c) => c.notNull())
    .addColumn('created_by_email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  // One plan at a time drives a flag's environment.
  await db.schema
    .createIndex('release_plans_one_running')
    .on('release_plans')
    .columns(['flag_key', 'environment'])
    .unique()
    .where(sql.ref('status'), 'in', sql`('active', 'paused')`)
    .execute();
  await db.schema.createIndex('release_plans_due').on('release_plans').column('next_at').where(sql.ref('status'), '=', 'active').execute();
}
