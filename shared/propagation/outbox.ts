import { sql, type Generated, type Kysely, type Transaction } from 'kysely';
import { entryKeyOf, type EntryChange } from './config-change.ts';

/**
 * The transactional outbox: a service writes its change and an outbox row in one transaction, so a change that
 * committed is always published (a relay drains the table), and nothing is published for a change that did not.
 * A row carries the typed change (`payload`), its kind (`topic`, for an operator reading the table) and the entry
 * it names (`aggregate_key`: the relay delivers several waiting changes to one entry once).
 */
export interface OutboxTable {
  id: Generated<number>;
  topic: string;
  aggregate_key: string;
  payload: string;
  created_at: Date;
  published_at: Date | null;
  /** Failed deliveries while the destination answered (outages do not count). */
  attempts: Generated<number>;
  last_error: string | null;
  /** Set when the row kept failing: the relay goes on without it; an operator looks at it (and may clear this). */
  set_aside_at: Date | null;
}

export async function createOutboxTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('aggregate_key', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('published_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('outbox_unpublished').on('outbox').column('id').where(sql.ref('published_at'), 'is', null).execute();
}

/** What lets the relay set aside a row that keeps failing instead of retrying it forever (a later migration). */
export async function addOutboxDeliveryColumns(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('outbox')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('set_aside_at', 'timestamptz')
    .execute();
}

/**
 * Notified (at commit, by PostgreSQL) when an outbox row was written, so the relay delivers it at once instead of
 * at its next poll. One channel per database; a service's database holds one outbox (the all-in-one's relays
 * share one database, and a wake-up meant for another service costs one empty poll).
 */
export const outboxChannel = 'togglemaster_outbox';

/** Records, inside the writing transaction, that `change` must be published once the transaction commits. */
export async function appendChange(tx: Transaction<{ outbox: OutboxTable }>, change: EntryChange): Promise<void> {
  await tx
    .insertInto('outbox')
    .values({
      topic: change.kind,
      aggregate_key: entryKeyOf(change),
      payload: JSON.stringify(change),
      created_at: new Date(),
      published_at: null,
    })
    .execute();
  await sql`select pg_notify(${outboxChannel}, '')`.execute(tx);
}
