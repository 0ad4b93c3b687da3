import { sql, type ExpressionBuilder, type Generated, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Change } from '../../shared/audit/diff.ts';
import type { Serve } from '../../shared/contracts/flag-model.ts';
import { segmentKeysOf, type Condition } from '../../shared/contracts/targeting-model.ts';
import { auditedWrites } from '../../shared/db/audited-write.ts';
import { isUniqueViolation, jsonb } from '../../shared/db/database.ts';
import type { WriteOutcome } from '../../shared/db/audited-write.ts';
import { appendChange, type OutboxTable } from '../../shared/propagation/outbox.ts';
import type {
  NewTargetingAuditEntry,
  SegmentHead,
  SegmentKeyChanges,
  SegmentKeysOutcome,
  StoredRule,
  StoredSegment,
  TargetingAuditAction,
  TargetingStore,
} from './targeting-store.ts';

interface RulesTable {
  id: string;
  flag_key: string;
  environment: string;
  priority: number;
  name: string;
  conditions: Condition[];
  segments: string[];
  serve: Serve;
  created_at: Date;
  updated_at: Date;
}

interface SegmentsTable {
  key: string;
  project: string;
  name: string;
  description: string;
  conditions: Condition[];
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** A segment's keys, a row each (0004-segment-keys): a change of one key writes one row. */
interface SegmentKeysTable {
  segment_key: string;
  list: 'included' | 'excluded';
  targeting_key: string;
}

interface TargetingAuditTable {
  id: Generated<number>;
  entity: 'rule' | 'segment';
  entity_key: string;
  flag_key: string | null;
  environment: string | null;
  project: string;
  action: TargetingAuditAction;
  actor_id: string;
  actor_email: string;
  at: Date;
  before: unknown;
  after: unknown;
  changes: Change[];
}

export interface TargetingDatabase {
  rules: RulesTable;
  segments: SegmentsTable;
  segment_keys: SegmentKeysTable;
  targeting_audit: TargetingAuditTable;
  outbox: OutboxTable;
}

const toRule = (row: Selectable<RulesTable>): StoredRule => ({
  id: row.id,
  flagKey: row.flag_key,
  environment: row.environment,
  priority: row.priority,
  name: row.name,
  conditions: row.conditions,
  segments: row.segments,
  serve: row.serve,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const ruleRow = (rule: StoredRule) => ({
  id: rule.id,
  flag_key: rule.flagKey,
  environment: rule.environment,
  priority: rule.priority,
  name: rule.name,
  conditions: jsonb(rule.conditions),
  segments: rule.segments,
  serve: jsonb(rule.serve),
  created_at: rule.createdAt,
  updated_at: rule.updatedAt,
});

/**
 * A list's keys as one JSON array, in byte order: one value JSON.parse reads in milliseconds, where 100,000 rows (or a
 * text[], which pg parses element by element in JavaScript) take ~100 ms.
 */
const keysOf = (list: SegmentKeysTable['list']) => (eb: ExpressionBuilder<TargetingDatabase, 'segments'>) =>
  eb
    .selectFrom(
      eb
        .selectFrom('segment_keys as k')
        .select('k.targeting_key')
        .whereRef('k.segment_key', '=', 'segments.key')
        .where('k.list', '=', list)
        // The primary key's order (the column is collate "C"): read in order, not sorted.
        .orderBy('k.targeting_key')
        .as('t'),
    )
    .select(sql<string[]>`coalesce(json_agg(t.targeting_key), '[]'::json)`.as('keys'))
    .$asScalar()
    .as(list);

const segmentColumns = [
  'key',
  'project',
  'name',
  'description',
  'conditions',
  keysOf('included'),
  keysOf('excluded'),
  'version',
  'created_at',
  'updated_at',
] as const;

const toSegment = (row: Selectable<SegmentsTable> & Pick<StoredSegment, 'included' | 'excluded'>): StoredSegment => ({
  key: row.key,
  project: row.project,
  name: row.name,
  description: row.description,
  conditions: row.conditions,
  included: row.included,
  excluded: row.excluded,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toCounts = (counts: Record<'included' | 'excluded', number>) => ({ includedCount: counts.included, excludedCount: counts.excluded });

const toHead = (row: Selectable<SegmentsTable>, counts: Record<'included' | 'excluded', number>): SegmentHead => ({
  key: row.key,
  project: row.project,
  name: row.name,
  description: row.description,
  conditions: row.conditions,
  version: row.version,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  ...toCounts(counts),
});

const segmentRow = (segment: StoredSegment) => ({
  key: segment.key,
  project: segment.project,
  name: segment.name,
  description: segment.description,
  conditions: jsonb(segment.conditions),
  version: segment.version,
  created_at: segment.createdAt,
  updated_at: segment.updatedAt,
});

async function insertAudit(tx: Transaction<TargetingDatabase>, entries: NewTargetingAuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await tx
    .insertInto('targeting_audit')
    .values(
      entries.map((a) => ({
        entity: a.entity,
        entity_key: a.entityKey,
        flag_key: a.flagKey,
        environment: a.environment,
        project: a.project,
        action: a.action,
        actor_id: a.actor.userId,
        actor_email: a.actor.email,
        at: a.at,
        before: jsonb(a.before ?? null),
        after: jsonb(a.after ?? null),
        changes: jsonb(a.changes),
      })),
    )
    .execute();
}

/** Ends a change of keys' transaction without writing anything, carrying the outcome out of it. */
class NothingWritten extends Error {
  readonly outcome: SegmentKeysOutcome;
  constructor(outcome: SegmentKeysOutcome) {
    super('segment keys change rolled back');
    this.outcome = outcome;
  }
}

const lists = ['included', 'excluded'] as const;

export function createPostgresTargetingStore(db: Kysely<TargetingDatabase>): TargetingStore {
  const audited = auditedWrites<TargetingDatabase, NewTargetingAuditEntry>(db, insertAudit);
  // Deleting a segment deletes its keys (on delete cascade); its other writes write its keys too (below).
  const segments = audited.table('segments', segmentRow);

  /** Inserts the keys not there yet; answers those it inserted. */
  async function insertKeys(
    tx: Transaction<TargetingDatabase>,
    segment: string,
    list: SegmentKeysTable['list'],
    keys: readonly string[],
  ): Promise<string[]> {
    if (keys.length === 0) return [];
    const rows = await tx
      .insertInto('segment_keys')
      .columns(['segment_key', 'list', 'targeting_key'])
      .expression(
        tx.selectNoFrom([
          sql<string>`${segment}::text`.as('segment_key'),
          sql<SegmentKeysTable['list']>`${list}::text`.as('list'),
          // One array parameter however many keys (a row of parameters per key would pass PostgreSQL's 65,535).
          sql<string>`unnest(${keys}::text[])`.as('targeting_key'),
        ]),
      )
      .onConflict((oc) => oc.doNothing())
      .returning('targeting_key')
      .execute();
    return rows.map((row) => row.targeting_key);
  }

  /** Deletes the keys that are there; answers those it deleted. */
  async function deleteKeys(
    tx: Transaction<TargetingDatabase>,
    segment: string,
    list: SegmentKeysTable['list'],
    keys: readonly string[],
  ): Promise<string[]> {
    if (keys.length === 0) return [];
    const rows = await tx
      .deleteFrom('segment_keys')
      .where('segment_key', '=', segment)
      .where('list', '=', list)
      .where('targeting_key', '=', sql<string>`any(${keys}::text[])`)
      .returning('targeting_key')
      .execute();
    return rows.map((row) => row.targeting_key);
  }

  /** The sizes of a segment's lists, counted in the keys' index (not read). */
  async function countKeys(executor: Kysely<TargetingDatabase>, segment: string): Promise<Record<SegmentKeysTable['list'], number>> {
    const rows = await executor
      .selectFrom('segment_keys')
      .select(['list', sql<number>`count(*)::int`.as('size')])
      .where('segment_key', '=', segment)
      .groupBy('list')
      .execute();
    const size = (list: SegmentKeysTable['list']) => rows.find((row) => row.list === list)?.size ?? 0;
    return { included: size('included'), excluded: size('excluded') };
  }

  return {
    async listRules({ flagKey, environment }) {
      let query = db.selectFrom('rules').selectAll().orderBy('environment').orderBy('flag_key').orderBy('priority').orderBy('id');
      if (flagKey) query = query.where('flag_key', '=', flagKey);
      if (environment) query = query.where('environment', '=', environment);
      return (await query.execute()).map(toRule);
    },
    async rulesUsingSegment(key) {
      const rows = await db
        .selectFrom('rules')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb('segments', '@>', sql<string[]>`array[${key}]::text[]`),
            // Any condition listing the key among its values; which of them are segment conditions is sorted out below.
            eb('conditions', '@>', sql<Condition[]>`${JSON.stringify([{ values: [key] }])}::jsonb`),
          ]),
        )
        .orderBy('environment')
        .orderBy('flag_key')
        .orderBy('priority')
        .orderBy('id')
        .execute();
      return rows.map(toRule).filter((r) => r.segments.includes(key) || segmentKeysOf(r.conditions).includes(key));
    },
    async getRule(id) {
      const row = await db.selectFrom('rules').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toRule(row);
    },
    async saveRules(rules, write) {
      await audited.write(write, async (tx) => {
        for (const rule of rules) {
          const row = ruleRow(rule);
          await tx
            .insertInto('rules')
            .values(row)
            .onConflict((oc) => oc.column('id').doUpdateSet(row))
            .execute();
        }
        return true;
      });
    },
    deleteRule: (id, write) =>
      audited.write(write, async (tx) => {
        const deleted = await tx.deleteFrom('rules').where('id', '=', id).executeTakeFirst();
        return deleted.numDeletedRows > 0n;
      }),
    async replaceRules({ flagKey, environment }, rules, write) {
      await audited.write(write, async (tx) => {
        await tx.deleteFrom('rules').where('flag_key', '=', flagKey).where('environment', '=', environment).execute();
        if (rules.length > 0) await tx.insertInto('rules').values(rules.map(ruleRow)).execute();
        return true;
      });
    },
    async listSegments({ project } = {}) {
      let query = db.selectFrom('segments').select(segmentColumns).orderBy('key');
      if (project) query = query.where('project', '=', project);
      return (await query.execute()).map(toSegment);
    },
    async getSegment(key) {
      const row = await db.selectFrom('segments').select(segmentColumns).where('key', '=', key).executeTakeFirst();
      return row && toSegment(row);
    },
    async getSegments(keys) {
      if (keys.length === 0) return [];
      return (
        await db
          .selectFrom('segments')
          .select(segmentColumns)
          .where('key', 'in', [...new Set(keys)])
          .orderBy('key')
          .execute()
      ).map(toSegment);
    },
    async createSegment(segment, write) {
      try {
        return await audited.write(write, async (tx) => {
          await tx.insertInto('segments').values(segmentRow(segment)).execute();
          await insertKeys(tx, segment.key, 'included', segment.included);
          await insertKeys(tx, segment.key, 'excluded', segment.excluded);
          return true;
        });
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },
    updateSegment: (segment, expectedVersion, write, keys) =>
      audited.write(write, async (tx): Promise<WriteOutcome> => {
        const updated = await tx
          .updateTable('segments')
          .set(segmentRow(segment))
          .where('key', '=', segment.key)
          .where('version', '=', expectedVersion)
          .executeTakeFirst();
        if (updated.numUpdatedRows === 0n)
          return (await tx.selectFrom('segments').select('key').where('key', '=', segment.key).executeTakeFirst()) ? 'stale' : 'not-found';
        // At the version read, the lists were what the changes were made from: only those rows change.
        for (const list of ['included', 'excluded'] as const) {
          await deleteKeys(tx, segment.key, list, keys[list].removed);
          await insertKeys(tx, segment.key, list, keys[list].added);
        }
        return 'ok';
      }),
    deleteSegment: (key, expectedVersion, write) => segments.delete(key, expectedVersion, write),
    async segmentVersion(key) {
      return db.selectFrom('segments').select(['version', 'project']).where('key', '=', key).executeTakeFirst();
    },
    async editSegmentKeys(key, expectedVersion, edits, { maxKeys, updatedAt, describe }) {
      try {
        return await db.transaction().execute(async (tx): Promise<SegmentKeysOutcome> => {
          // Locked until commit: no other write of this segment (its keys included) runs in between.
          const row = await tx.selectFrom('segments').selectAll().where('key', '=', key).forUpdate().executeTakeFirst();
          if (!row) return { outcome: 'not-found' };
          if (row.version !== expectedVersion) return { outcome: 'stale' };
          const keys: SegmentKeyChanges = { included: { added: [], removed: [] }, excluded: { added: [], removed: [] } };
          for (const list of lists) {
            const remove = new Set(edits[list].remove);
            // A key added and removed in the same change ends up out: it is not added (and removed if it was there).
            const add = [...new Set(edits[list].add)].filter((k) => !remove.has(k));
            const added = new Set(await insertKeys(tx, key, list, add));
            const removed = new Set(await deleteKeys(tx, key, list, [...remove]));
            // In the order the change named them (RETURNING's order is the database's).
            keys[list] = { added: add.filter((k) => added.has(k)), removed: [...remove].filter((k) => removed.has(k)) };
          }
          const counts = await countKeys(tx, key);
          const unchanged = lists.every((list) => keys[list].added.length === 0 && keys[list].removed.length === 0);
          if (unchanged) return { outcome: 'unchanged', segment: toHead(row, counts) };
          const tooMany = lists.filter((list) => counts[list] > maxKeys).map((list) => ({ list, size: counts[list] }));
          if (tooMany.length > 0) throw new NothingWritten({ outcome: 'too-many', lists: tooMany });
          const before = toHead(row, {
            included: counts.included - keys.included.added.length + keys.included.removed.length,
            excluded: counts.excluded - keys.excluded.added.length + keys.excluded.removed.length,
          });
          const after: SegmentHead = { ...before, ...toCounts(counts), version: row.version + 1, updatedAt };
          await tx.updateTable('segments').set({ version: after.version, updated_at: updatedAt }).where('key', '=', key).execute();
          const write = describe({ before, after, keys });
          await insertAudit(tx, write.audit);
          await appendChange(tx, write.change);
          return { outcome: 'ok', segment: after };
        });
      } catch (error) {
        if (error instanceof NothingWritten) return error.outcome;
        throw error;
      }
    },
    async history({ project, flagKey, segmentKey, limit, before }) {
      let query = db
        .selectFrom('targeting_audit')
        .selectAll()
        .where('project', '=', project)
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (flagKey) query = query.where('flag_key', '=', flagKey);
      if (segmentKey) query = query.where('entity', '=', 'segment').where('entity_key', '=', segmentKey);
      if (before !== undefined) query = query.where('id', '<', before);
      const rows = await query.execute();
      const items = rows.slice(0, limit).map((r) => ({
        id: r.id,
        entity: r.entity,
        entityKey: r.entity_key,
        flagKey: r.flag_key,
        environment: r.environment,
        project: r.project,
        action: r.action,
        actor: { userId: r.actor_id, email: r.actor_email },
        at: r.at,
        before: r.before,
        after: r.after,
        changes: r.changes,
      }));
      return { items, nextCursor: rows.length > limit ? String(items.at(-1)?.id) : null };
    },
    async projectInHistory(about) {
      let query = db.selectFrom('targeting_audit').select('project').orderBy('id', 'desc').limit(1);
      query =
        'flagKey' in about
          ? query.where('flag_key', '=', about.flagKey)
          : query.where('entity', '=', 'segment').where('entity_key', '=', about.segmentKey);
      return (await query.executeTakeFirst())?.project;
    },
  };
}
