import type { Kysely } from 'kysely';

/** Whether client-side SDKs may evaluate a flag: off for every existing flag (nothing becomes public by an upgrade). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('flags')
    .addColumn('client_visible', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}
