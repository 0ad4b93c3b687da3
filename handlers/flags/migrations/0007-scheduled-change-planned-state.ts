import type { Kysely } from 'kysely';

/**
 * The environment's state a scheduled change was planned on: at its time it conflicts only if a field it changes
 * moved meanwhile (not for any change of the flag). Rows planned before have none: they keep the version check.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('scheduled_changes').addColumn('planned_state', 'jsonb').execute();
}
