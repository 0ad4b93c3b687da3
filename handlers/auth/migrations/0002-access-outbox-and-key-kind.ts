import { sql, type Kysely } from 'kysely';
import { addOutboxDeliveryColumns, createOutboxTable } from '../../../shared/propagation/outbox.ts';

/** Auth publishes SDK keys and users' access like flags and rules: an outbox row in the writing transaction. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await createOutboxTable(db);
  await addOutboxDeliveryColumns(db);
  await db.schema
    .alterTable('api_keys')
    .addColumn('kind', 'text', (c) =>
      c
        .notNull()
        .defaultTo('server')
        .check(sql`kind in ('server', 'client')`),
    )
    .execute();
}
