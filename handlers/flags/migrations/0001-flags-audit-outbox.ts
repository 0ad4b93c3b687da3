import { sql, type Kysely } from 'kysely';
import { createOutboxTable } from '../../../shared/propagation/outbox.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('flags')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('boolean', 'string', 'number', 'json')`))
    .addColumn('variants', 'jsonb', (c) => c.notNull())
    .addColumn('salt', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('environments', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('flags_tags').on('flags').using('gin').column('tags').execute();

  await db.schema
    .createTable('flag_audit')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('flag_key', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('environment', 'text')
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('actor_email', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .addColumn('changes', 'jsonb', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('flag_audit_by_flag').on('flag_audit').columns(['flag_key', 'id']).execute();

  await createOutboxTable(db);
}
