import { sql, type Generated, type Kysely, type Selectable } from 'kysely';
import type { Change } from '../../shared/audit/diff.ts';
import type { EnvironmentState, FlagType, Prerequisite, Variant } from '../../shared/contracts/flag-model.ts';
import { auditedWrites } from '../../shared/db/audited-write.ts';
import { jsonb } from '../../shared/db/database.ts';
import type { OutboxTable } from '../../shared/propagation/outbox.ts';
import type { AuditAction, AuditEntry, Flag, FlagDocument, FlagStore, NewAuditEntry } from './flag-store.ts';

interface FlagsTable {
  key: string;
  name: string;
  description: string;
  tags: string[];
  type: FlagType;
  variants: Variant[];
  salt: string;
  version: number;
  client_visible: boolean;
  environments: Record<string, EnvironmentState>;
  created_at: Date;
  updated_at: Date;
}

interface FlagAuditTable {
  id: Generated<number>;
  flag_key: string;
  action: AuditAction;
  environment: string | null;
  actor_id: string;
  actor_email: string;
  at: Date;
  version: number;
  before: FlagDocument | null;
  after: FlagDocument | null;
  changes: Change[];
}

export interface FlagsDatabase {
  flags: FlagsTable;
  flag_audit: FlagAuditTable;
  outbox: OutboxTable;
}

const toFlag = (row: Selectable<FlagsTable>): Flag => ({
  key: row.key,
  name: row.name,
  description: row.description,
  tags: row.tags,
  type: row.type,
  variants: row.variants,
  salt: row.salt,
  version: row.version,
  clientVisible: row.client_visible,
  environments: row.environments,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const row = (flag: Flag) => ({
  key: flag.key,
  name: flag.name,
  description: flag.description,
  tags: flag.tags,
  type: flag.type,
  variants: jsonb(flag.variants),
  salt: flag.salt,
  version: flag.version,
  client_visible: flag.clientVisible,
  environments: jsonb(flag.environments),
  created_at: flag.createdAt,
  updated_at: flag.updatedAt,
});

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** `schema` names the PostgreSQL schema for the one raw query (the schema plugin does not rewrite raw SQL). */
export function createPostgresFlagStore(db: Kysely<FlagsDatabase>, schema: string): FlagStore {
  const audited = auditedWrites<FlagsDatabase, NewAuditEntry>(db, async (tx, entries) => {
    await tx
      .insertInto('flag_audit')
      .values(
        entries.map((audit) => ({
          flag_key: audit.flagKey,
          action: audit.action,
          environment: audit.environment,
          actor_id: audit.actor.userId,
          actor_email: audit.actor.email,
          at: audit.at,
          version: audit.version,
          before: jsonb(audit.before),
          after: jsonb(audit.after),
          changes: jsonb(audit.changes),
        })),
      )
      .execute();
  });
  const flags = audited.table('flags', row);

  return {
    async list({ tag, type, q, limit, after }) {
      let query = db
        .selectFrom('flags')
        .selectAll()
        .orderBy('key')
        .limit(limit + 1);
      if (after) query = query.where('key', '>', after);
      if (type) query = query.where('type', '=', type);
      if (tag) query = query.where(sql<boolean>`tags @> array[${tag}]::text[]`);
      if (q) {
        const pattern = `%${escapeLike(q)}%`;
        query = query.where((eb) =>
          eb.or([eb('key', 'ilike', pattern), eb('name', 'ilike', pattern), eb('description', 'ilike', pattern)]),
        );
      }
      const rows = await query.execute();
      const items = rows.slice(0, limit).map(toFlag);
      return { items, nextCursor: rows.length > limit ? (items.at(-1)?.key ?? null) : null };
    },

    async get(key) {
      const found = await db.selectFrom('flags').selectAll().where('key', '=', key).executeTakeFirst();
      return found && toFlag(found);
    },

    async prerequisiteEdges() {
      const rows = await sql<{ flag_key: string; environment: string; prerequisite: Prerequisite }>`
        select f.key as flag_key, e.key as environment, p.value as prerequisite
        from ${sql.table(`${schema}.flags`)} f
        cross join lateral jsonb_each(f.environments) e
        cross join lateral jsonb_array_elements(e.value -> 'prerequisites') p`.execute(db);
      return rows.rows.map((r) => ({ flagKey: r.flag_key, environment: r.environment, prerequisite: r.prerequisite }));
    },

    create: (flag, write) => flags.insert(flag, write),
    update: (flag, expectedVersion, write) => flags.update(flag, expectedVersion, write),
    delete: (key, expectedVersion, write) => flags.delete(key, expectedVersion, write),

    async history(key, { limit, before }) {
      let query = db
        .selectFrom('flag_audit')
        .selectAll()
        .where('flag_key', '=', key)
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (before !== undefined) query = query.where('id', '<', before);
      const rows = await query.execute();
      const items: AuditEntry[] = rows.slice(0, limit).map((r) => ({
        id: r.id,
        flagKey: r.flag_key,
        action: r.action,
        environment: r.environment,
        actor: { userId: r.actor_id, email: r.actor_email },
        at: r.at,
        version: r.version,
        before: r.before,
        after: r.after,
        changes: r.changes,
      }));
      return { items, nextCursor: rows.length > limit ? String(items.at(-1)?.id) : null };
    },
  };
}
