import { sql, type Kysely } from 'kysely';

/**
 * Projects (issue 18): flags, webhooks, change requests and the audit trail belong to one; `default` holds all that
 * exists (a release event's project is its flag's). Online: a column with a constant default is added without
 * rewriting the table (PostgreSQL ≥ 11), so the lock lasts milliseconds whatever the number of flags, and evaluation
 * (which reads the configuration cache) never waits on it. The foreign keys are NOT VALID — no scan of the table
 * under its lock: rows that exist hold `default`, which exists; new rows are checked.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('projects')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await db
    .withTables<{ projects: { key: string; name: string; description: string } }>()
    .insertInto('projects')
    .values({ key: 'default', name: 'Default', description: 'What existed before projects, and what the original paths mean' })
    .execute();
  for (const table of ['flags', 'webhooks', 'change_requests', 'flag_audit']) {
    await db.schema
      .alterTable(table)
      .addColumn('project', 'text', (c) => c.notNull().defaultTo('default'))
      .execute();
  }
  for (const table of ['flags', 'webhooks', 'change_requests']) {
    // Compiled by Kysely (which names the service's schema), then NOT VALID, which its builder does not say.
    const { sql: statement } = db.schema
      .alterTable(table)
      .addForeignKeyConstraint(`${table}_project_fkey`, ['project'], 'projects', ['key'])
      .compile();
    await sql.raw(`${statement} not valid`).execute(db);
  }
  // A project's flags by key (its list pages), its webhooks (the fan-out), its change requests newest first.
  await db.schema.createIndex('flags_by_project').on('flags').columns(['project', 'key']).execute();
  await db.schema.createIndex('webhooks_by_project').on('webhooks').column('project').execute();
  await db.schema.createIndex('change_requests_by_project').on('change_requests').columns(['project', 'created_at']).execute();
}
