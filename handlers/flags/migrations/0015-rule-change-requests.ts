import { sql, type Kysely } from 'kysely';

/**
 * Change requests of rules: a protected environment's targeting rules of a flag, proposed whole (`rules`) against the
 * rules as they were (`planned_rules`), applied by the targeting service once approved.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('change_requests').addColumn('rules', 'jsonb').addColumn('planned_rules', 'jsonb').execute();
  await db.schema.alterTable('change_requests').dropConstraint('change_requests_kind_check').execute();
  await db.schema
    .alterTable('change_requests')
    .addCheckConstraint('change_requests_kind_check', sql`kind in ('change', 'schedule', 'release-plan', 'rules')`)
    .execute();
}
