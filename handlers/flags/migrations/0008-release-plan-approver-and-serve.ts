import type { Kysely } from 'kysely';

/**
 * Who approved a release plan's waiting milestone (that step is theirs in the audit), and what the plan serves now
 * (a step pauses the plan when the environment serves anything else: someone changed it outside the plan).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('release_plans')
    .addColumn('approved_by_id', 'text')
    .addColumn('approved_by_email', 'text')
    .addColumn('serving', 'jsonb')
    .execute();
}
