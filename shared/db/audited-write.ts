import type { Insertable, Kysely, Transaction } from 'kysely';
import type { EntryChange } from '../propagation/config-change.ts';
import { appendChange, type OutboxTable } from '../propagation/outbox.ts';
import { isUniqueViolation } from './database.ts';

/** What every write of configuration carries: its audit entries and the change to publish, committed with it or not at all. */
export interface AuditedChange<A> {
  audit: A[];
  change: EntryChange;
}

/** A conditional write's outcome: done, or refused because the row moved on (`stale`) or is gone. */
export type WriteOutcome = 'ok' | 'stale' | 'not-found';

/** A table of documents with a key and a version, written only together with their audit trail and outbox row. */
export interface AuditedTable<T, A> {
  /** False when the key is taken. */
  insert(document: T, write: AuditedChange<A>): Promise<boolean>;
  /** Replaces the document if it is still at `expectedVersion`. */
  update(document: T, expectedVersion: number, write: AuditedChange<A>): Promise<WriteOutcome>;
  delete(key: string, expectedVersion: number, write: AuditedChange<A>): Promise<WriteOutcome>;
}

interface VersionedRow {
  key: string;
  version: number;
}

/** A service's audited writes in PostgreSQL: the change, its audit rows and its outbox row in one transaction. */
export function auditedWrites<DB extends { outbox: OutboxTable }, A>(
  db: Kysely<DB>,
  insertAudit: (tx: Transaction<DB>, entries: A[]) => Promise<void>,
) {
  /** Runs `apply` and, if it wrote (answered true or 'ok'), records the write, all in one transaction. */
  async function write<R extends boolean | string>(change: AuditedChange<A>, apply: (tx: Transaction<DB>) => Promise<R>): Promise<R> {
    return db.transaction().execute(async (tx) => {
      const outcome = await apply(tx);
      if (outcome === true || outcome === 'ok') {
        if (change.audit.length > 0) await insertAudit(tx, change.audit);
        // An outbox in every service's schema: the database type names it, the narrow view writes it.
        await appendChange(tx as unknown as Transaction<{ outbox: OutboxTable }>, change.change);
      }
      return outcome;
    });
  }

  /**
   * The versioned table `name` (its rows have a `key` and a `version`), whose documents `toRow` turns into rows.
   * Kysely cannot type a table chosen by a parameter, so the queries run on a view that names it `versioned` and
   * knows just those two columns (the SQL names the real table).
   */
  function table<N extends keyof DB & string, T extends VersionedRow>(
    name: N,
    toRow: (document: T) => Insertable<DB[N]>,
  ): AuditedTable<T, A> {
    const view = (tx: Transaction<DB>) => tx as unknown as Transaction<{ versioned: VersionedRow }>;
    const versioned = name as string as 'versioned';
    const row = (document: T) => toRow(document) as unknown as VersionedRow;
    /** Why a conditional write touched no row: the document is gone, or someone else changed it first. */
    const miss = async (tx: Transaction<DB>, key: string): Promise<WriteOutcome> =>
      (await view(tx).selectFrom(versioned).select('key').where('key', '=', key).executeTakeFirst()) ? 'stale' : 'not-found';
    return {
      async insert(document, change) {
        try {
          return await write(change, async (tx) => {
            await view(tx).insertInto(versioned).values(row(document)).execute();
            return true;
          });
        } catch (error) {
          if (isUniqueViolation(error)) return false;
          throw error;
        }
      },
      update: (document, expectedVersion, change) =>
        write(change, async (tx) => {
          const updated = await view(tx)
            .updateTable(versioned)
            .set(row(document))
            .where('key', '=', document.key)
            .where('version', '=', expectedVersion)
            .executeTakeFirst();
          return updated.numUpdatedRows === 0n ? miss(tx, document.key) : 'ok';
        }),
      delete: (key, expectedVersion, change) =>
        write(change, async (tx) => {
          const deleted = await view(tx)
            .deleteFrom(versioned)
            .where('key', '=', key)
            .where('version', '=', expectedVersion)
            .executeTakeFirst();
          return deleted.numDeletedRows === 0n ? miss(tx, key) : 'ok';
        }),
    };
  }

  return { write, table };
}
