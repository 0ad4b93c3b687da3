import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { isUniqueViolation } from '../../../shared/db/database.ts';
import { outboxChannel, type OutboxTable } from '../../../shared/propagation/outbox.ts';
import type { Environment } from './environment.ts';
import type { EnvironmentStore } from './environment-store.ts';

export interface EnvironmentsTable {
  key: string;
  name: string;
  position: number;
  protected: boolean;
  required_approvals: number;
  created_at: Date;
  updated_at: Date;
  version: number;
}

const toEnvironment = (r: Selectable<EnvironmentsTable>): Environment => ({
  key: r.key,
  name: r.name,
  position: r.position,
  protected: r.protected,
  requiredApprovals: r.required_approvals,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  version: r.version,
});

const row = (e: Environment): EnvironmentsTable => ({
  key: e.key,
  name: e.name,
  position: e.position,
  protected: e.protected,
  required_approvals: e.requiredApprovals,
  created_at: e.createdAt,
  updated_at: e.updatedAt,
  version: e.version,
});

type Database = { environments: EnvironmentsTable; flags: { key: string }; outbox: OutboxTable };

/**
 * Every flag's document changes with the environments (a state for each, defaulted for a new one): one outbox row
 * per flag, in the transaction that adds or removes the environment, republishes them all to evaluation.
 */
async function republishEveryFlag(tx: Transaction<Database>): Promise<void> {
  await tx
    .insertInto('outbox')
    .columns(['topic', 'aggregate_key', 'payload', 'created_at', 'published_at'])
    .expression(
      tx
        .selectFrom('flags')
        .select((eb) => [
          sql<string>`'flag'`.as('topic'),
          sql<string>`'flag:' || ${eb.ref('key')}`.as('aggregate_key'),
          sql<string>`jsonb_build_object('kind', 'flag', 'key', ${eb.ref('key')})`.as('payload'),
          sql<Date>`now()`.as('created_at'),
          sql<null>`null`.as('published_at'),
        ]),
    )
    .execute();
  await sql`select pg_notify(${outboxChannel}, '')`.execute(tx);
}

export function createPostgresEnvironmentStore(db: Kysely<Database>): EnvironmentStore {
  return {
    async list() {
      return (await db.selectFrom('environments').selectAll().orderBy('position').orderBy('key').execute()).map(toEnvironment);
    },
    async seed(environments) {
      if (environments.length === 0) return;
      // Every replica may seed at its first start: only into an empty table, and a key another wrote first is skipped.
      await db.transaction().execute(async (tx) => {
        if (await tx.selectFrom('environments').select('key').limit(1).executeTakeFirst()) return;
        await tx
          .insertInto('environments')
          .values(environments.map(row))
          .onConflict((c) => c.column('key').doNothing())
          .execute();
      });
    },
    async insert(environment) {
      try {
        await db.transaction().execute(async (tx) => {
          await tx.insertInto('environments').values(row(environment)).execute();
          await republishEveryFlag(tx);
        });
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },
    async update(environment, expectedVersion) {
      const updated = await db
        .updateTable('environments')
        .set(row(environment))
        .where('key', '=', environment.key)
        .where('version', '=', expectedVersion)
        .executeTakeFirst();
      if (updated.numUpdatedRows > 0n) return 'ok';
      return (await db.selectFrom('environments').select('key').where('key', '=', environment.key).executeTakeFirst())
        ? 'stale'
        : 'not-found';
    },
    async reorder(keys, at) {
      await db.transaction().execute(async (tx) => {
        for (const [position, key] of keys.entries())
          await tx
            .updateTable('environments')
            .set((eb) => ({ position, updated_at: at, version: eb('version', '+', 1) }))
            .where('key', '=', key)
            .execute();
      });
    },
    async delete(key) {
      return db.transaction().execute(async (tx) => {
        const deleted = await tx.deleteFrom('environments').where('key', '=', key).executeTakeFirst();
        if (deleted.numDeletedRows === 0n) return false;
        await republishEveryFlag(tx);
        return true;
      });
    },
  };
}
