import { sql, type Kysely } from 'kysely';
import { createOutboxTable } from '../../../shared/propagation/outbox.ts';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('rules')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('flag_key', 'text', (c) => c.notNull())
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('conditions', 'jsonb', (c) => c.notNull())
    .addColumn('segments', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('serve', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rules_by_flag').on('rules').columns(['environment', 'flag_key', 'priority']).execute();

  await db.schema
    .createTable('segments')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('conditions', 'jsonb', (c) => c.notNull())
    .addColumn('included', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('excluded', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('targeting_audit')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('entity', 'text', (c) => c.notNull())
    .addColumn('entity_key', 'text', (c) => c.notNull())
    .addColumn('flag_key', 'text')
    .addColumn('environment', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('actor_email', 'text', (c) => c.notNull())
    .addColumn('at', 'timestamptz', (c) => c.notNull())
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .addColumn('changes', 'jsonb', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('targeting_audit_by_flag').on('targeting_audit').columns(['flag_key', 'id']).execute();
  await db.schema.createIndex('targeting_audit_by_entity').on('targeting_audit').columns(['entity', 'entity_key', 'id']).execute();

  await createOutboxTable(db);
}
