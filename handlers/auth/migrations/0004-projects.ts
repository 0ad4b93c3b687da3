import { sql, type Kysely } from 'kysely';

/**
 * Projects (issue 18): a person's role in a project other than `default` comes from a membership, and an SDK key
 * evaluates one project's flags (`default` for the keys that exist). Online: a column with a constant default is
 * added without rewriting the table (PostgreSQL ≥ 11); the new index on api_keys (a few rows per environment and
 * project) is built in milliseconds. Projects live in the flags service's schema, hence no foreign key to them: the
 * flags service refuses to delete a project that still has members or live keys.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('project_members')
    .addColumn('project', 'text', (c) => c.notNull())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('viewer', 'editor', 'admin')`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('project_members_pkey', ['project', 'user_id'])
    .execute();
  // A user's memberships (what their access record says); a project's members use the primary key.
  await db.schema.createIndex('project_members_by_user').on('project_members').column('user_id').execute();

  await db.schema
    .alterTable('api_keys')
    .addColumn('project', 'text', (c) => c.notNull().defaultTo('default'))
    .execute();
  await db.schema.createIndex('api_keys_by_project').on('api_keys').column('project').execute();
}
