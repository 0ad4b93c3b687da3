import { sql, type Kysely } from 'kysely';

/**
 * Change requests: a change to a protected environment (its state, a scheduled change, a release plan's start) kept
 * with the state it was planned on and its diff until enough people other than its author approve it; applied once,
 * in the transaction that writes the flag. Approvals, the rejection and comments travel with the request (jsonb,
 * written under its version), so a request is read and written whole.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('change_requests')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('flag_key', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('change', 'schedule', 'release-plan')`))
    .addColumn('description', 'text')
    .addColumn('change', 'jsonb')
    .addColumn('schedule', 'jsonb')
    .addColumn('release_plan', 'jsonb')
    .addColumn('planned_version', 'integer', (c) => c.notNull())
    .addColumn('planned_state', 'jsonb', (c) => c.notNull())
    .addColumn('diff', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('open', 'approved', 'applied', 'rejected', 'conflicted', 'failed', 'cancelled')`),
    )
    .addColumn('required_approvals', 'integer', (c) => c.notNull())
    .addColumn('approvals', 'jsonb', (c) => c.notNull())
    .addColumn('rejection', 'jsonb')
    .addColumn('comments', 'jsonb', (c) => c.notNull())
    .addColumn('author_id', 'text', (c) => c.notNull())
    .addColumn('author_email', 'text', (c) => c.notNull())
    .addColumn('applied_by_id', 'text')
    .addColumn('applied_by_email', 'text')
    .addColumn('outcome', 'text')
    .addColumn('result', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addColumn('closed_at', 'timestamptz')
    .addColumn('version', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('change_requests_by_flag').on('change_requests').columns(['flag_key', 'created_at']).execute();
  await db.schema
    .createIndex('change_requests_waiting')
    .on('change_requests')
    .columns(['created_at'])
    .where(sql.ref('status'), 'in', sql`('open', 'approved')`)
    .execute();
}
