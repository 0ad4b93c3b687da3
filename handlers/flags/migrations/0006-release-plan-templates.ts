import type { Kysely } from 'kysely';

/** Release plan templates: milestones saved under a name, to start plans from (e.g. 1/10/50/100 % over a day). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('release_plan_templates')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('milestones', 'jsonb', (c) => c.notNull())
    .addColumn('created_by_id', 'text', (c) => c.notNull())
    .addColumn('created_by_email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute();
}
