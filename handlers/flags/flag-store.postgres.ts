import { sql, type Generated, type Kysely, type Selectable } from 'kysely';
import type { Change } from '../../shared/audit/diff.ts';
import type { EnvironmentPatch, EnvironmentState, FlagType, Prerequisite, Serve, Variant } from '../../shared/contracts/flag-model.ts';
import {
  pausedPlan,
  type Guardrail,
  type GuardrailCheck,
  type Milestone,
  type ReleasePlan,
  type ReleasePlanStatus,
  type ReleasePlanTemplate,
  type SampleRatioCheck,
} from './release-plans/release-plan.ts';
import type { ScheduledChange, ScheduleStatus } from './schedules/scheduled-change.ts';
import { planEventOf, scheduleEventOf, type NewReleaseEvent, type ReleaseEvent, type ReleaseEventType } from './release-events.ts';
import type { ChangeCause } from '../../shared/contracts/flags-api.ts';
import { auditedWrites } from '../../shared/db/audited-write.ts';
import { isUniqueViolation, jsonb } from '../../shared/db/database.ts';
import type { OutboxTable } from '../../shared/propagation/outbox.ts';
import type { AuditAction, AuditEntry, Flag, FlagDocument, FlagStore, NewAuditEntry } from './flag-store.ts';
import type { ChangeRequest } from './change-requests/change-request.ts';
import { projectOf } from '../../shared/contracts/project-model.ts';

interface FlagsTable {
  key: string;
  project: Generated<string>;
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
  archived_at: Date | null;
  archived_by_id: string | null;
  archived_by_email: string | null;
}

interface FlagAuditTable {
  id: Generated<number>;
  flag_key: string;
  project: Generated<string>;
  action: AuditAction;
  environment: string | null;
  actor_id: string;
  actor_email: string;
  at: Date;
  version: number;
  before: FlagDocument | null;
  after: FlagDocument | null;
  changes: Change[];
  cause: ChangeCause | null;
}

interface ScheduledChangesTable {
  id: string;
  flag_key: string;
  environment: string;
  change: EnvironmentPatch;
  run_at: Date;
  planned_version: number;
  planned_state: EnvironmentState | null;
  status: ScheduleStatus;
  outcome: string | null;
  created_by_id: string;
  created_by_email: string;
  created_at: Date;
  updated_at: Date;
  closed_at: Date | null;
  version: number;
}

interface ReleasePlansTable {
  id: string;
  flag_key: string;
  environment: string;
  milestones: Milestone[];
  guardrails: Guardrail[];
  guardrail_checks: Generated<GuardrailCheck[]>;
  sample_ratio: Generated<SampleRatioCheck | null>;
  status: ReleasePlanStatus;
  step: number;
  start_serve: Serve;
  next_at: Date | null;
  awaiting_approval: boolean;
  approved_step: number | null;
  approved_by_id: string | null;
  approved_by_email: string | null;
  serving: Serve | null;
  paused_remaining_ms: number | null;
  flag_version: number;
  outcome: string | null;
  created_by_id: string;
  created_by_email: string;
  created_at: Date;
  updated_at: Date;
  version: number;
}

const toPlan = (r: Selectable<ReleasePlansTable>): ReleasePlan => ({
  id: r.id,
  flagKey: r.flag_key,
  environment: r.environment,
  milestones: r.milestones,
  guardrails: r.guardrails,
  guardrailChecks: r.guardrail_checks,
  sampleRatio: r.sample_ratio,
  status: r.status,
  step: r.step,
  startServe: r.start_serve,
  nextAt: r.next_at,
  awaitingApproval: r.awaiting_approval,
  approvedStep: r.approved_step,
  approvedBy: r.approved_by_id && r.approved_by_email ? { userId: r.approved_by_id, email: r.approved_by_email } : null,
  serving: r.serving,
  pausedRemainingMs: r.paused_remaining_ms,
  flagVersion: r.flag_version,
  outcome: r.outcome,
  createdBy: { userId: r.created_by_id, email: r.created_by_email },
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  version: r.version,
});

/** A plan's row, without its last looks: only the evaluator writes those (saveGuardrailChecks), so no step overwrites them. */
const planRow = (p: ReleasePlan) => ({
  id: p.id,
  flag_key: p.flagKey,
  environment: p.environment,
  milestones: jsonb(p.milestones),
  guardrails: jsonb(p.guardrails),
  status: p.status,
  step: p.step,
  start_serve: jsonb(p.startServe),
  next_at: p.nextAt,
  awaiting_approval: p.awaitingApproval,
  approved_step: p.approvedStep,
  approved_by_id: p.approvedBy?.userId ?? null,
  approved_by_email: p.approvedBy?.email ?? null,
  serving: p.serving && jsonb(p.serving),
  paused_remaining_ms: p.pausedRemainingMs,
  flag_version: p.flagVersion,
  outcome: p.outcome,
  created_by_id: p.createdBy.userId,
  created_by_email: p.createdBy.email,
  created_at: p.createdAt,
  updated_at: p.updatedAt,
  version: p.version,
});

interface ReleasePlanTemplatesTable {
  id: string;
  name: string;
  milestones: Milestone[];
  created_by_id: string;
  created_by_email: string;
  created_at: Date;
}

const toTemplate = (r: Selectable<ReleasePlanTemplatesTable>): ReleasePlanTemplate => ({
  id: r.id,
  name: r.name,
  milestones: r.milestones,
  createdBy: { userId: r.created_by_id, email: r.created_by_email },
  createdAt: r.created_at,
});

interface ReleaseEventsTable {
  id: Generated<number>;
  type: ReleaseEventType;
  flag_key: string;
  environment: string;
  schedule_id: string | null;
  release_plan_id: string | null;
  milestone: number | null;
  actor_id: string | null;
  actor_email: string | null;
  detail: string | null;
  data: NewReleaseEvent['data'];
  created_at: Date;
  delivered_at: Date | null;
}

const releaseEventRow = (e: NewReleaseEvent) => ({
  type: e.type,
  flag_key: e.flagKey,
  environment: e.environment,
  schedule_id: e.scheduleId,
  release_plan_id: e.releasePlanId,
  milestone: e.milestone,
  actor_id: e.actor?.userId ?? null,
  actor_email: e.actor?.email ?? null,
  detail: e.detail,
  data: e.data && jsonb(e.data),
  created_at: e.at,
  delivered_at: null,
});

export const toReleaseEvent = (r: Selectable<ReleaseEventsTable>): ReleaseEvent => ({
  id: Number(r.id),
  type: r.type,
  flagKey: r.flag_key,
  environment: r.environment,
  scheduleId: r.schedule_id,
  releasePlanId: r.release_plan_id,
  milestone: r.milestone,
  actor: r.actor_id && r.actor_email ? { userId: r.actor_id, email: r.actor_email } : null,
  detail: r.detail,
  data: r.data,
  at: r.created_at,
});

/** Thrown inside a transaction to undo it: the plan moved while its step was being written. */
class PlanMoved extends Error {}

/** Thrown inside a transaction to undo it: the flag moved since the change request was checked against it. */
class FlagMoved extends Error {}

interface ChangeRequestsTable {
  id: string;
  flag_key: string;
  project: Generated<string>;
  environment: string;
  kind: ChangeRequest['kind'];
  description: string | null;
  change: ChangeRequest['change'];
  schedule: { runAt: string; change: EnvironmentPatch } | null;
  release_plan: ChangeRequest['releasePlan'];
  rules: ChangeRequest['rules'];
  planned_rules: ChangeRequest['plannedRules'];
  planned_version: number;
  planned_state: EnvironmentState;
  diff: Change[];
  status: ChangeRequest['status'];
  required_approvals: number;
  approvals: { userId: string; email: string; at: string }[];
  rejection: { userId: string; email: string; at: string; comment: string } | null;
  comments: { id: number; author: { userId: string; email: string }; body: string; at: string }[];
  author_id: string;
  author_email: string;
  applied_by_id: string | null;
  applied_by_email: string | null;
  outcome: string | null;
  result: ChangeRequest['result'];
  created_at: Date;
  updated_at: Date;
  closed_at: Date | null;
  version: number;
}

const changeRequestRow = (r: ChangeRequest) => ({
  id: r.id,
  flag_key: r.flagKey,
  project: r.project,
  environment: r.environment,
  kind: r.kind,
  description: r.description,
  change: r.change && jsonb(r.change),
  schedule: r.schedule && jsonb({ runAt: r.schedule.runAt.toISOString(), change: r.schedule.change }),
  release_plan: r.releasePlan && jsonb(r.releasePlan),
  rules: r.rules && jsonb(r.rules),
  planned_rules: r.plannedRules && jsonb(r.plannedRules),
  planned_version: r.plannedVersion,
  planned_state: jsonb(r.plannedState),
  diff: jsonb(r.diff),
  status: r.status,
  required_approvals: r.requiredApprovals,
  approvals: jsonb(r.approvals.map((a) => ({ ...a, at: a.at.toISOString() }))),
  rejection: r.rejection && jsonb({ ...r.rejection, at: r.rejection.at.toISOString() }),
  comments: jsonb(r.comments.map((c) => ({ ...c, at: c.at.toISOString() }))),
  author_id: r.author.userId,
  author_email: r.author.email,
  applied_by_id: r.appliedBy?.userId ?? null,
  applied_by_email: r.appliedBy?.email ?? null,
  outcome: r.outcome,
  result: jsonb(r.result),
  created_at: r.createdAt,
  updated_at: r.updatedAt,
  closed_at: r.closedAt,
  version: r.version,
});

const toChangeRequest = (r: Selectable<ChangeRequestsTable>): ChangeRequest => ({
  id: r.id,
  flagKey: r.flag_key,
  project: r.project,
  environment: r.environment,
  kind: r.kind,
  description: r.description,
  change: r.change,
  schedule: r.schedule && { runAt: new Date(r.schedule.runAt), change: r.schedule.change },
  releasePlan: r.release_plan,
  rules: r.rules,
  plannedRules: r.planned_rules,
  plannedVersion: r.planned_version,
  plannedState: r.planned_state,
  diff: r.diff,
  status: r.status,
  requiredApprovals: r.required_approvals,
  approvals: r.approvals.map((a) => ({ ...a, at: new Date(a.at) })),
  rejection: r.rejection && { ...r.rejection, at: new Date(r.rejection.at) },
  comments: r.comments.map((c) => ({ ...c, at: new Date(c.at) })),
  author: { userId: r.author_id, email: r.author_email },
  appliedBy: r.applied_by_id && r.applied_by_email ? { userId: r.applied_by_id, email: r.applied_by_email } : null,
  outcome: r.outcome,
  result: r.result,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  closedAt: r.closed_at,
  version: r.version,
});

export interface FlagsDatabase {
  flags: FlagsTable;
  flag_audit: FlagAuditTable;
  scheduled_changes: ScheduledChangesTable;
  release_plans: ReleasePlansTable;
  release_plan_templates: ReleasePlanTemplatesTable;
  release_events: ReleaseEventsTable;
  change_requests: ChangeRequestsTable;
  outbox: OutboxTable;
}

const toSchedule = (r: Selectable<ScheduledChangesTable>): ScheduledChange => ({
  id: r.id,
  flagKey: r.flag_key,
  environment: r.environment,
  change: r.change,
  runAt: r.run_at,
  plannedVersion: r.planned_version,
  plannedState: r.planned_state,
  status: r.status,
  outcome: r.outcome,
  createdBy: { userId: r.created_by_id, email: r.created_by_email },
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  closedAt: r.closed_at,
  version: r.version,
});

const scheduleRow = (s: ScheduledChange) => ({
  id: s.id,
  flag_key: s.flagKey,
  environment: s.environment,
  change: jsonb(s.change),
  run_at: s.runAt,
  planned_version: s.plannedVersion,
  planned_state: s.plannedState && jsonb(s.plannedState),
  status: s.status,
  outcome: s.outcome,
  created_by_id: s.createdBy.userId,
  created_by_email: s.createdBy.email,
  created_at: s.createdAt,
  updated_at: s.updatedAt,
  closed_at: s.closedAt,
  version: s.version,
});

const toFlag = (row: Selectable<FlagsTable>): Flag => ({
  key: row.key,
  project: row.project,
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
  archivedAt: row.archived_at,
  archivedBy: row.archived_by_id && row.archived_by_email ? { userId: row.archived_by_id, email: row.archived_by_email } : null,
});

const row = (flag: Flag) => ({
  key: flag.key,
  project: flag.project,
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
  archived_at: flag.archivedAt,
  archived_by_id: flag.archivedBy?.userId ?? null,
  archived_by_email: flag.archivedBy?.email ?? null,
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
          project: projectOf(audit.after ?? audit.before ?? {}),
          action: audit.action,
          environment: audit.environment,
          actor_id: audit.actor.userId,
          actor_email: audit.actor.email,
          at: audit.at,
          version: audit.version,
          before: jsonb(audit.before),
          after: jsonb(audit.after),
          changes: jsonb(audit.changes),
          cause: jsonb(audit.cause ?? null),
        })),
      )
      .execute();
  });
  const flags = audited.table('flags', row);

  return {
    async list({ project, tag, type, q, limit, after, archived }) {
      let query = db
        .selectFrom('flags')
        .selectAll()
        .where('archived_at', archived ? 'is not' : 'is', null)
        .orderBy('key')
        .limit(limit + 1);
      if (after) query = query.where('key', '>', after);
      if (project) query = query.where('project', '=', project);
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

    async projectOfFlag(key) {
      const flag = await db.selectFrom('flags').select('project').where('key', '=', key).executeTakeFirst();
      if (flag) return flag.project;
      const audit = await db
        .selectFrom('flag_audit')
        .select('project')
        .where('flag_key', '=', key)
        .orderBy('id', 'desc')
        .limit(1)
        .executeTakeFirst();
      return audit?.project;
    },

    async prerequisiteEdges() {
      const rows = await sql<{ flag_key: string; environment: string; prerequisite: Prerequisite; archived: boolean }>`
        select f.key as flag_key, e.key as environment, p.value as prerequisite, f.archived_at is not null as archived
        from ${sql.table(`${schema}.flags`)} f
        cross join lateral jsonb_each(f.environments) e
        cross join lateral jsonb_array_elements(e.value -> 'prerequisites') p`.execute(db);
      return rows.rows.map((r) => ({
        flagKey: r.flag_key,
        environment: r.environment,
        prerequisite: r.prerequisite,
        archived: r.archived,
      }));
    },

    create: (flag, write) => flags.insert(flag, write),
    update: (flag, expectedVersion, write) => flags.update(flag, expectedVersion, write),
    archive: (flag, expectedVersion, write, { at, actor, outcome }) =>
      audited.write(write, async (tx) => {
        const updated = await tx
          .updateTable('flags')
          .set(row(flag))
          .where('key', '=', flag.key)
          .where('version', '=', expectedVersion)
          .executeTakeFirst();
        if (updated.numUpdatedRows === 0n)
          return (await tx.selectFrom('flags').select('key').where('key', '=', flag.key).executeTakeFirst()) ? 'stale' : 'not-found';
        // Nothing applies to an archived flag: its pending schedules end (cancelled) and its active plans stop (paused).
        const cancelled = await tx
          .updateTable('scheduled_changes')
          .set((eb) => ({ status: 'cancelled', outcome, closed_at: at, updated_at: at, version: eb('version', '+', 1) }))
          .where('flag_key', '=', flag.key)
          .where('status', '=', 'pending')
          .returning(['id', 'flag_key as flagKey', 'environment'])
          .execute();
        const running = await tx
          .selectFrom('release_plans')
          .selectAll()
          .where('flag_key', '=', flag.key)
          .where('status', '=', 'active')
          .forUpdate()
          .execute();
        const events: NewReleaseEvent[] = cancelled.map((s) => scheduleEventOf(s, 'cancelled', outcome, actor, at));
        for (const plan of running.map(toPlan)) {
          const paused = pausedPlan(plan, at, outcome);
          await tx.updateTable('release_plans').set(planRow(paused)).where('id', '=', plan.id).execute();
          const event = planEventOf(plan, paused, actor, at);
          if (event) events.push(event);
        }
        if (events.length > 0) await tx.insertInto('release_events').values(events.map(releaseEventRow)).execute();
        return 'ok' as const;
      }),
    delete: (key, expectedVersion, write) => flags.delete(key, expectedVersion, write),

    async insertSchedule(schedule) {
      await db.insertInto('scheduled_changes').values(scheduleRow(schedule)).execute();
    },

    async getSchedule(id) {
      const found = await db.selectFrom('scheduled_changes').selectAll().where('id', '=', id).executeTakeFirst();
      return found && toSchedule(found);
    },

    async listSchedules({ flagKey, status, dueBy, closed, limit }) {
      let query = db.selectFrom('scheduled_changes').selectAll().limit(limit);
      if (flagKey) query = query.where('flag_key', '=', flagKey);
      if (status) query = query.where('status', '=', status);
      if (dueBy) query = query.where('status', '=', 'pending').where('run_at', '<=', dueBy);
      query = closed ? query.where('status', '!=', 'pending').orderBy('closed_at', 'desc') : query.orderBy('run_at');
      return (await query.orderBy('id').execute()).map(toSchedule);
    },

    async updateSchedule(schedule, expectedVersion) {
      const updated = await db
        .updateTable('scheduled_changes')
        .set(scheduleRow(schedule))
        .where('id', '=', schedule.id)
        .where('status', '=', 'pending')
        .where('version', '=', expectedVersion)
        .executeTakeFirst();
      if (updated.numUpdatedRows > 0n) return 'ok';
      const current = await db.selectFrom('scheduled_changes').select(['status']).where('id', '=', schedule.id).executeTakeFirst();
      return !current ? 'not-found' : current.status !== 'pending' ? 'not-pending' : 'stale';
    },

    closeSchedule: (id, status, outcome, at, actor) =>
      db.transaction().execute(async (tx) => {
        const closed = await tx
          .updateTable('scheduled_changes')
          .set((eb) => ({ status, outcome, closed_at: at, updated_at: at, version: eb('version', '+', 1) }))
          .where('id', '=', id)
          .where('status', '=', 'pending')
          .returning(['id', 'flag_key as flagKey', 'environment'])
          .executeTakeFirst();
        if (!closed) return false;
        await tx
          .insertInto('release_events')
          .values(releaseEventRow(scheduleEventOf(closed, status, outcome, actor, at)))
          .execute();
        return true;
      }),

    applySchedule: (id, flag, expectedVersion, write, at, actor) =>
      audited.write(write, async (tx) => {
        // Claimed first: of two workers running the same schedule, the second finds it no longer pending.
        const claimed = await tx
          .updateTable('scheduled_changes')
          .set((eb) => ({ status: 'applied', closed_at: at, updated_at: at, version: eb('version', '+', 1) }))
          .where('id', '=', id)
          .where('status', '=', 'pending')
          .returning(['id', 'flag_key as flagKey', 'environment'])
          .executeTakeFirst();
        if (!claimed) return 'not-pending' as const;
        const updated = await tx
          .updateTable('flags')
          .set(row(flag))
          .where('key', '=', flag.key)
          .where('version', '=', expectedVersion)
          .executeTakeFirst();
        if (updated.numUpdatedRows > 0n) {
          await tx
            .insertInto('release_events')
            .values(releaseEventRow(scheduleEventOf(claimed, 'applied', null, actor, at)))
            .execute();
          return 'ok' as const;
        }
        // The flag moved after the schedule was read: recorded as a conflict, in the same transaction, not forced.
        const exists = await tx.selectFrom('flags').select('key').where('key', '=', flag.key).executeTakeFirst();
        const [status, outcome] = exists
          ? (['conflicted', 'the flag changed after this was planned'] as const)
          : (['failed', 'the flag was deleted'] as const);
        await tx.updateTable('scheduled_changes').set({ status, outcome }).where('id', '=', id).execute();
        await tx
          .insertInto('release_events')
          .values(releaseEventRow(scheduleEventOf(claimed, status, outcome, null, at)))
          .execute();
        return exists ? ('stale' as const) : ('not-found' as const);
      }),

    async insertTemplate(template) {
      try {
        await db
          .insertInto('release_plan_templates')
          .values({
            id: template.id,
            name: template.name,
            milestones: jsonb(template.milestones),
            created_by_id: template.createdBy.userId,
            created_by_email: template.createdBy.email,
            created_at: template.createdAt,
          })
          .execute();
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    async getTemplate(id) {
      const found = await db.selectFrom('release_plan_templates').selectAll().where('id', '=', id).executeTakeFirst();
      return found && toTemplate(found);
    },

    async listTemplates() {
      return (await db.selectFrom('release_plan_templates').selectAll().orderBy('name').execute()).map(toTemplate);
    },

    async deleteTemplate(id) {
      const deleted = await db.deleteFrom('release_plan_templates').where('id', '=', id).executeTakeFirst();
      return deleted.numDeletedRows > 0n;
    },

    async insertPlan(plan, event) {
      try {
        await db.transaction().execute(async (tx) => {
          await tx.insertInto('release_plans').values(planRow(plan)).execute();
          await tx.insertInto('release_events').values(releaseEventRow(event)).execute();
        });
        return true;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },

    async getPlan(id) {
      const found = await db.selectFrom('release_plans').selectAll().where('id', '=', id).executeTakeFirst();
      return found && toPlan(found);
    },

    async listPlans({ flagKey, dueBy, guarded, limit }) {
      let query = db.selectFrom('release_plans').selectAll().limit(limit);
      if (flagKey) query = query.where('flag_key', '=', flagKey);
      if (guarded)
        return (
          await query
            .where('status', '=', 'active')
            .where(sql<number>`jsonb_array_length(guardrails)`, '>', 0)
            .orderBy('created_at')
            .execute()
        ).map(toPlan);
      query = dueBy
        ? query.where('status', '=', 'active').where('next_at', '<=', dueBy).orderBy('next_at')
        : query.orderBy('created_at', 'desc').orderBy('id');
      return (await query.execute()).map(toPlan);
    },

    updatePlan: (plan, expectedVersion, event) =>
      db.transaction().execute(async (tx) => {
        const updated = await tx
          .updateTable('release_plans')
          .set(planRow(plan))
          .where('id', '=', plan.id)
          .where('version', '=', expectedVersion)
          .executeTakeFirst();
        if (updated.numUpdatedRows > 0n) {
          if (event) await tx.insertInto('release_events').values(releaseEventRow(event)).execute();
          return 'ok' as const;
        }
        return (await tx.selectFrom('release_plans').select('id').where('id', '=', plan.id).executeTakeFirst()) ? 'stale' : 'not-found';
      }),

    async saveGuardrailChecks(id, checks, sampleRatio) {
      await db
        .updateTable('release_plans')
        .set({ guardrail_checks: jsonb(checks), sample_ratio: sampleRatio && jsonb(sampleRatio) })
        .where('id', '=', id)
        .execute();
    },

    async applyPlanChange(plan, expectedPlanVersion, flag, expectedFlagVersion, write, event) {
      try {
        return await audited.write(write, async (tx) => {
          const updated = await tx
            .updateTable('flags')
            .set(row(flag))
            .where('key', '=', flag.key)
            .where('version', '=', expectedFlagVersion)
            .executeTakeFirst();
          if (updated.numUpdatedRows === 0n) {
            return (await tx.selectFrom('flags').select('key').where('key', '=', flag.key).executeTakeFirst())
              ? ('stale' as const)
              : ('not-found' as const);
          }
          const moved = await tx
            .updateTable('release_plans')
            .set(planRow(plan))
            .where('id', '=', plan.id)
            .where('version', '=', expectedPlanVersion)
            .executeTakeFirst();
          // Of two workers advancing the same plan, the second undoes its flag write here.
          if (moved.numUpdatedRows === 0n) throw new PlanMoved();
          if (event) await tx.insertInto('release_events').values(releaseEventRow(event)).execute();
          return 'ok' as const;
        });
      } catch (error) {
        if (error instanceof PlanMoved) return 'plan-moved';
        throw error;
      }
    },

    async releaseEvents(flagKey, { limit, before }) {
      let query = db
        .selectFrom('release_events')
        .selectAll()
        .where('flag_key', '=', flagKey)
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (before !== undefined) query = query.where('id', '<', before);
      const rows = await query.execute();
      const items = rows.slice(0, limit).map(toReleaseEvent);
      return { items, nextCursor: rows.length > limit ? String(items.at(-1)?.id) : null };
    },

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
        cause: r.cause,
      }));
      return { items, nextCursor: rows.length > limit ? String(items.at(-1)?.id) : null };
    },

    async insertChangeRequest(request, event) {
      await db.transaction().execute(async (tx) => {
        await tx.insertInto('change_requests').values(changeRequestRow(request)).execute();
        await tx.insertInto('release_events').values(releaseEventRow(event)).execute();
      });
    },
    async getChangeRequest(id) {
      const found = await db.selectFrom('change_requests').selectAll().where('id', '=', id).executeTakeFirst();
      return found && toChangeRequest(found);
    },
    async listChangeRequests({ flagKey, project, waiting, limit }) {
      let query = db.selectFrom('change_requests').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(limit);
      if (flagKey) query = query.where('flag_key', '=', flagKey);
      if (project) query = query.where('project', '=', project);
      if (waiting) query = query.where('status', 'in', ['open', 'approved']);
      return (await query.execute()).map(toChangeRequest);
    },
    updateChangeRequest: (request, expectedVersion, event) =>
      db.transaction().execute(async (tx) => {
        const updated = await tx
          .updateTable('change_requests')
          .set(changeRequestRow(request))
          .where('id', '=', request.id)
          .where('version', '=', expectedVersion)
          .executeTakeFirst();
        if (updated.numUpdatedRows === 0n)
          return (await tx.selectFrom('change_requests').select('id').where('id', '=', request.id).executeTakeFirst())
            ? 'stale'
            : 'not-found';
        if (event) await tx.insertInto('release_events').values(releaseEventRow(event)).execute();
        return 'ok';
      }),
    async applyChangeRequest(applied, requestVersion, flag, expectedVersion, write, event) {
      try {
        return await audited.write(write, async (tx) => {
          // Claimed first: of two people applying it at once, the second finds it no longer approved at this version.
          const claimed = await tx
            .updateTable('change_requests')
            .set(changeRequestRow(applied))
            .where('id', '=', applied.id)
            .where('version', '=', requestVersion)
            .where('status', '=', 'approved')
            .executeTakeFirst();
          if (claimed.numUpdatedRows === 0n) return 'request-moved' as const;
          const updated = await tx
            .updateTable('flags')
            .set(row(flag))
            .where('key', '=', flag.key)
            .where('version', '=', expectedVersion)
            .executeTakeFirst();
          if (updated.numUpdatedRows === 0n) throw new FlagMoved();
          await tx.insertInto('release_events').values(releaseEventRow(event)).execute();
          return 'ok' as const;
        });
      } catch (error) {
        if (error instanceof FlagMoved) return 'stale';
        throw error;
      }
    },
  };
}
