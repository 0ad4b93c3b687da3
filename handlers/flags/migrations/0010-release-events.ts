import { sql, type Kysely } from 'kysely';

/**
 * What the release automation did, one row per event (a schedule ran, a milestone applied, a plan paused or rolled
 * back…), written in the transaction that did it: the timeline the console shows, and the outbox the webhooks of
 * issue 18 deliver from (`delivered_at`).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('release_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('flag_key', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('schedule_id', 'uuid')
    .addColumn('release_plan_id', 'uuid')
    .addColumn('milestone', 'integer')
    .addColumn('actor_id', 'text')
    .addColumn('actor_email', 'text')
    .addColumn('detail', 'text')
    .addColumn('data', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('release_events_by_flag').on('release_events').columns(['flag_key', 'id']).execute();
  await db.schema
    .createIndex('release_events_undelivered')
    .on('release_events')
    .column('id')
    .where(sql.ref('delivered_at'), 'is', null)
    .execute();
}
