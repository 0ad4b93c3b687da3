import { sql, type Kysely } from 'kysely';

/**
 * Environments as data: until now ENVIRONMENTS named them; from now on this table does, and ENVIRONMENTS only seeds it
 * on the first start (the flags service fills an empty table). `protected`: changes there go through change requests
 * with `required_approvals` approvals.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('environments')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('protected', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('required_approvals', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`required_approvals between 1 and 10`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
}
