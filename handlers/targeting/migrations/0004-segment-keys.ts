import { sql, type Kysely } from 'kysely';

/**
 * A segment's keys in rows of their own (issue 19): a list of 100,000 keys held in a text[] column was rewritten
 * whole — parsed, compressed, logged — on every change of one key (~2.6 MB a change); a row per key makes that change
 * one insert and one delete. The lists move over in the migration's transaction; the columns go.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('segment_keys')
    .addColumn('segment_key', 'text', (c) => c.notNull().references('segments.key').onDelete('cascade'))
    .addColumn('list', 'text', (c) => c.notNull().check(sql`list in ('included', 'excluded')`))
    // Byte order whatever the database's collation: the key's index gives a list in order without a sort.
    .addColumn('targeting_key', sql`text collate "C"`, (c) => c.notNull())
    .addPrimaryKeyConstraint('segment_keys_pkey', ['segment_key', 'list', 'targeting_key'])
    .execute();
  // Built queries, not raw SQL: the schema is the migrator's (withSchema), which raw SQL would not get.
  const tables = db as Kysely<{ segments: { key: string }; segment_keys: { segment_key: string; list: string; targeting_key: string } }>;
  for (const list of ['included', 'excluded'])
    await tables
      .insertInto('segment_keys')
      .columns(['segment_key', 'list', 'targeting_key'])
      .expression(
        tables
          .selectFrom('segments')
          .select(['key', sql<string>`${list}::text`.as('list'), sql<string>`unnest(${sql.ref(list)})`.as('targeting_key')]),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
  await db.schema.alterTable('segments').dropColumn('included').dropColumn('excluded').execute();
}
