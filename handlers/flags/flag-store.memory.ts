import { projectOf } from '../../shared/contracts/project-model.ts';
import { memoryAuditedWrites } from '../../shared/db/audited-write.memory.ts';
import type { Flag, FlagStore, NewAuditEntry } from './flag-store.ts';
import type { ScheduledChange, ScheduleStatus } from './schedules/scheduled-change.ts';
import { pausedPlan, type ReleasePlan, type ReleasePlanTemplate } from './release-plans/release-plan.ts';
import { planEventOf, scheduleEventOf, type NewReleaseEvent, type ReleaseEvent } from './release-events.ts';
import { isWaiting, type ChangeRequest } from './change-requests/change-request.ts';

/** The same contract as the PostgreSQL store, in memory, for unit tests. Documents are copied in and out. */
export function createMemoryFlagStore(): FlagStore {
  const flags = new Map<string, Flag>();
  const audited = memoryAuditedWrites<NewAuditEntry>();
  const table = audited.table(flags);
  const clone = <T>(value: T): T => structuredClone(value);
  const schedules = new Map<string, ScheduledChange>();
  const plans = new Map<string, ReleasePlan>();
  const templates = new Map<string, ReleasePlanTemplate>();
  const requests = new Map<string, ChangeRequest>();
  const running = (p: ReleasePlan) => p.status === 'active' || p.status === 'paused';
  // As in PostgreSQL: a plan's write keeps the guardrails' last looks, which only saveGuardrailChecks writes.
  const withLooksOf = (current: ReleasePlan, plan: ReleasePlan) =>
    clone({ ...plan, guardrailChecks: current.guardrailChecks, sampleRatio: current.sampleRatio });
  const events: ReleaseEvent[] = [];
  const record = (event: NewReleaseEvent | null) => {
    if (event) events.push(clone({ ...event, id: events.length + 1 }));
  };
  const closeNow = (
    schedule: ScheduledChange,
    status: Exclude<ScheduleStatus, 'pending'>,
    outcome: string | null,
    at: Date,
    actor: { userId: string; email: string } | null,
  ) => {
    schedules.set(schedule.id, { ...schedule, status, outcome, closedAt: at, updatedAt: at, version: schedule.version + 1 });
    record(scheduleEventOf(schedule, status, outcome, actor, at));
  };

  return {
    async list({ project, tag, type, q, limit, after, archived }) {
      const needle = q?.toLowerCase();
      const matches = [...flags.values()]
        .filter((f) => (f.archivedAt !== null) === (archived === true) && (!project || f.project === project))
        .filter((f) => (!after || f.key > after) && (!type || f.type === type) && (!tag || f.tags.includes(tag)))
        .filter((f) => !needle || [f.key, f.name, f.description].some((text) => text.toLowerCase().includes(needle)))
        .sort((a, b) => (a.key < b.key ? -1 : 1));
      const items = matches.slice(0, limit).map(clone);
      return { items, nextCursor: matches.length > limit ? (items.at(-1)?.key ?? null) : null };
    },
    async get(key) {
      const flag = flags.get(key);
      return flag && clone(flag);
    },
    async projectOfFlag(key) {
      const flag = flags.get(key);
      if (flag) return flag.project;
      const last = audited.audit.findLast((e) => e.flagKey === key);
      return last && projectOf(last.after ?? last.before ?? {});
    },
    async prerequisiteEdges() {
      return [...flags.values()].flatMap((f) =>
        Object.entries(f.environments).flatMap(([environment, state]) =>
          state.prerequisites.map((prerequisite) => ({
            flagKey: f.key,
            environment,
            prerequisite: clone(prerequisite),
            archived: f.archivedAt !== null,
          })),
        ),
      );
    },
    create: (flag, write) => table.insert(flag, write),
    update: (flag, expectedVersion, write) => table.update(flag, expectedVersion, write),
    async archive(flag, expectedVersion, write, { at, actor, outcome }) {
      const written = await table.update(flag, expectedVersion, write);
      if (written !== 'ok') return written;
      for (const schedule of schedules.values())
        if (schedule.flagKey === flag.key && schedule.status === 'pending') closeNow(schedule, 'cancelled', outcome, at, actor);
      for (const plan of plans.values()) {
        if (plan.flagKey !== flag.key || plan.status !== 'active') continue;
        const paused = pausedPlan(plan, at, outcome);
        plans.set(plan.id, clone(paused));
        record(planEventOf(plan, paused, actor, at));
      }
      return 'ok';
    },
    delete: (key, expectedVersion, write) => table.delete(key, expectedVersion, write),
    async insertSchedule(schedule) {
      schedules.set(schedule.id, clone(schedule));
    },
    async getSchedule(id) {
      const schedule = schedules.get(id);
      return schedule && clone(schedule);
    },
    async listSchedules({ flagKey, status, dueBy, closed, limit }) {
      return [...schedules.values()]
        .filter((s) => (!flagKey || s.flagKey === flagKey) && (!status || s.status === status))
        .filter((s) => !dueBy || (s.status === 'pending' && s.runAt <= dueBy))
        .filter((s) => !closed || s.status !== 'pending')
        .sort((a, b) =>
          closed
            ? (b.closedAt?.getTime() ?? 0) - (a.closedAt?.getTime() ?? 0) || a.id.localeCompare(b.id)
            : a.runAt.getTime() - b.runAt.getTime() || a.id.localeCompare(b.id),
        )
        .slice(0, limit)
        .map(clone);
    },
    async updateSchedule(schedule, expectedVersion) {
      const current = schedules.get(schedule.id);
      if (!current) return 'not-found';
      if (current.status !== 'pending') return 'not-pending';
      if (current.version !== expectedVersion) return 'stale';
      schedules.set(schedule.id, clone(schedule));
      return 'ok';
    },
    async closeSchedule(id, status, outcome, at, actor) {
      const current = schedules.get(id);
      if (current?.status !== 'pending') return false;
      closeNow(current, status, outcome, at, actor);
      return true;
    },
    async applySchedule(id, flag, expectedVersion, write, at, actor) {
      const current = schedules.get(id);
      if (current?.status !== 'pending') return 'not-pending';
      const outcome = await table.update(flag, expectedVersion, write);
      if (outcome === 'ok') closeNow(current, 'applied', null, at, actor);
      else
        closeNow(
          current,
          outcome === 'stale' ? 'conflicted' : 'failed',
          outcome === 'stale' ? 'the flag changed after this was planned' : 'the flag was deleted',
          at,
          null,
        );
      return outcome;
    },
    async insertTemplate(template) {
      if ([...templates.values()].some((t) => t.name === template.name)) return false;
      templates.set(template.id, clone(template));
      return true;
    },
    async getTemplate(id) {
      const template = templates.get(id);
      return template && clone(template);
    },
    async listTemplates() {
      return [...templates.values()].sort((a, b) => a.name.localeCompare(b.name)).map(clone);
    },
    async deleteTemplate(id) {
      return templates.delete(id);
    },
    async insertPlan(plan, event) {
      if ([...plans.values()].some((p) => running(p) && p.flagKey === plan.flagKey && p.environment === plan.environment)) return false;
      plans.set(plan.id, clone(plan));
      record(event);
      return true;
    },
    async getPlan(id) {
      const plan = plans.get(id);
      return plan && clone(plan);
    },
    async listPlans({ flagKey, dueBy, guarded, limit }) {
      const matching = [...plans.values()].filter((p) => !flagKey || p.flagKey === flagKey);
      const chosen = guarded
        ? matching
            .filter((p) => p.status === 'active' && p.guardrails.length > 0)
            .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
        : dueBy
          ? matching
              .filter((p) => p.status === 'active' && p.nextAt !== null && p.nextAt <= dueBy)
              .sort((a, b) => a.nextAt!.getTime() - b.nextAt!.getTime())
          : matching.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
      return chosen.slice(0, limit).map(clone);
    },
    async updatePlan(plan, expectedVersion, event) {
      const current = plans.get(plan.id);
      if (!current) return 'not-found';
      if (current.version !== expectedVersion) return 'stale';
      plans.set(plan.id, withLooksOf(current, plan));
      record(event);
      return 'ok';
    },
    async saveGuardrailChecks(id, checks, sampleRatio) {
      const current = plans.get(id);
      if (current) plans.set(id, clone({ ...current, guardrailChecks: checks, sampleRatio }));
    },
    async applyPlanChange(plan, expectedPlanVersion, flag, expectedFlagVersion, write, event) {
      const current = plans.get(plan.id);
      if (current?.version !== expectedPlanVersion) return 'plan-moved';
      const outcome = await table.update(flag, expectedFlagVersion, write);
      if (outcome === 'ok') {
        plans.set(plan.id, withLooksOf(current, plan));
        record(event);
      }
      return outcome;
    },
    async releaseEvents(flagKey, { limit, before }) {
      const matching = events.filter((e) => e.flagKey === flagKey && (before === undefined || e.id < before)).reverse();
      const items = matching.slice(0, limit).map(clone);
      return { items, nextCursor: matching.length > limit ? String(items.at(-1)?.id) : null };
    },
    async history(key, { limit, before }) {
      const entries = audited.audit.filter((e) => e.flagKey === key && (before === undefined || e.id < before)).reverse();
      const items = entries.slice(0, limit).map(clone);
      return { items, nextCursor: entries.length > limit ? String(items.at(-1)?.id) : null };
    },
    async insertChangeRequest(request, event) {
      requests.set(request.id, clone(request));
      record(event);
    },
    async getChangeRequest(id) {
      const request = requests.get(id);
      return request && clone(request);
    },
    async listChangeRequests({ flagKey, project, waiting, limit }) {
      return [...requests.values()]
        .filter((r) => (!flagKey || r.flagKey === flagKey) && (!project || r.project === project) && (!waiting || isWaiting(r)))
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
        .slice(0, limit)
        .map(clone);
    },
    async updateChangeRequest(request, expectedVersion, event) {
      const current = requests.get(request.id);
      if (!current) return 'not-found';
      if (current.version !== expectedVersion) return 'stale';
      requests.set(request.id, clone(request));
      record(event);
      return 'ok';
    },
    async applyChangeRequest(applied, requestVersion, flag, expectedVersion, write, event) {
      const current = requests.get(applied.id);
      if (current?.status !== 'approved' || current.version !== requestVersion) return 'request-moved';
      const outcome = await table.update(flag, expectedVersion, write);
      if (outcome !== 'ok') return outcome;
      requests.set(applied.id, clone(applied));
      record(event);
      return 'ok';
    },
  };
}
