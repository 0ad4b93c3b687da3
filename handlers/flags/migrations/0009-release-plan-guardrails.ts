import { sql, type Kysely } from 'kysely';

/**
 * A release plan's guardrails (metrics the treatment must not make worse than control), each one's last look, and
 * the last sample-ratio check. Plans from before have none.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('release_plans')
    .addColumn('guardrails', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('guardrail_checks', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('sample_ratio', 'jsonb')
    .execute();
}
