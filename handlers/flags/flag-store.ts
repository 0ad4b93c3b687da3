import type { Change } from '../../shared/audit/diff.ts';
import type { FlagDocument, FlagType, Prerequisite } from '../../shared/contracts/flag-model.ts';
import type { AuditedChange, WriteOutcome } from '../../shared/db/audited-write.ts';
import type { ScheduledChange, ScheduleStatus } from './schedules/scheduled-change.ts';
import type { ChangeCause } from '../../shared/contracts/flags-api.ts';
import type { GuardrailCheck, ReleasePlan, ReleasePlanTemplate, SampleRatioCheck } from './release-plans/release-plan.ts';
import type { NewReleaseEvent, ReleaseEvent } from './release-events.ts';
import type { ChangeRequest } from './change-requests/change-request.ts';

type Actor = { userId: string; email: string };

/** A flag as the flags service holds it: the API's document, with real dates (`archivedAt` null while active). */
export type Flag = Omit<FlagDocument, 'project' | 'createdAt' | 'updatedAt' | 'archivedAt' | 'archivedBy'> & {
  project: string;
  createdAt: Date;
  updatedAt: Date;
  archivedAt: Date | null;
  archivedBy: Actor | null;
};

export type { FlagDocument };

/** The API's document of a flag: whether it is archived is always said (null while active). */
export const toDocument = (flag: Flag): FlagDocument & Required<Pick<FlagDocument, 'project' | 'archivedAt' | 'archivedBy'>> => ({
  ...flag,
  createdAt: flag.createdAt.toISOString(),
  updatedAt: flag.updatedAt.toISOString(),
  archivedAt: flag.archivedAt?.toISOString() ?? null,
});

/** `deleted`: a flag removed before flags were archived (its entries stay in the history); a DELETE now archives. */
export type AuditAction = 'created' | 'updated' | 'environment-updated' | 'archived' | 'restored' | 'purged' | 'deleted';

export interface AuditEntry {
  id: number;
  flagKey: string;
  action: AuditAction;
  environment: string | null;
  actor: { userId: string; email: string };
  at: Date;
  version: number;
  before: FlagDocument | null;
  after: FlagDocument | null;
  changes: Change[];
  /** What made the change when it was not a person's request: the scheduled change that ran (its author is the actor). */
  cause?: ChangeCause | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

/** Every write carries its audit entry and the change to publish, committed with it or not at all. */
export type WriteRecord = AuditedChange<NewAuditEntry>;

export interface FlagFilter {
  /** Only this project's flags; every project's when absent (the service's own scans). */
  project?: string | undefined;
  tag?: string | undefined;
  type?: FlagType | undefined;
  /** Case-insensitive text in key, name or description. */
  q?: string | undefined;
  limit: number;
  /** Keyset pagination: flags with a key after this one. */
  after?: string | undefined;
  /** True: only archived flags; otherwise only active ones. */
  archived?: boolean | undefined;
}

export interface PrerequisiteEdge {
  flagKey: string;
  environment: string;
  prerequisite: Prerequisite;
  /** Whether the flag that has the prerequisite (`flagKey`) is archived. */
  archived: boolean;
}

/** What archiving a flag also ends, in the same transaction: its pending schedules and its running release plans. */
export interface ArchiveClosing {
  at: Date;
  actor: Actor;
  /** Why, as the cancelled schedules' and paused plans' outcome ("the flag was archived by …"). */
  outcome: string;
}

/** What the flags service keeps: PostgreSQL in production, a map in unit tests, built by one factory. */
export interface FlagStore {
  /** Active flags, or archived ones (`filter.archived`), by key. */
  list(filter: FlagFilter): Promise<{ items: Flag[]; nextCursor: string | null }>;
  /** The flag, active or archived. */
  get(key: string): Promise<Flag | undefined>;
  /** The project of the flag (active or archived) or, once purged, of its audit trail; undefined when neither is there. */
  projectOfFlag(key: string): Promise<string | undefined>;
  /** Every prerequisite of every flag (archived ones' too): for cycle detection and for refusing to break a dependent flag. */
  prerequisiteEdges(): Promise<PrerequisiteEdge[]>;
  /** False when the key is taken (by an active or an archived flag). */
  create(flag: Flag, write: WriteRecord): Promise<boolean>;
  /** Replaces the flag if it is still at `expectedVersion` (a restore too: `flag` with `archivedAt` null). */
  update(flag: Flag, expectedVersion: number, write: WriteRecord): Promise<WriteOutcome>;
  /**
   * Archives: writes `flag` (marked archived) if still at `expectedVersion`, and in the same transaction cancels the
   * flag's pending schedules and pauses its active release plans, each with its release event, so that nothing
   * applies to an archived flag.
   */
  archive(flag: Flag, expectedVersion: number, write: WriteRecord, closing: ArchiveClosing): Promise<WriteOutcome>;
  /** Removes the row (a purge); the audit trail stays. */
  delete(key: string, expectedVersion: number, write: WriteRecord): Promise<WriteOutcome>;
  history(
    key: string,
    options: { limit: number; before?: number | undefined },
  ): Promise<{ items: AuditEntry[]; nextCursor: string | null }>;

  insertSchedule(schedule: ScheduledChange): Promise<void>;
  getSchedule(id: string): Promise<ScheduledChange | undefined>;
  /** Earliest run time first; `dueBy`: pending ones whose time has come by then; `closed`: finished ones, latest first. */
  listSchedules(filter: {
    flagKey?: string | undefined;
    status?: ScheduleStatus | undefined;
    dueBy?: Date | undefined;
    closed?: boolean | undefined;
    limit: number;
  }): Promise<ScheduledChange[]>;
  /** Replaces a schedule that is still pending and at `expectedVersion`. */
  updateSchedule(schedule: ScheduledChange, expectedVersion: number): Promise<WriteOutcome | 'not-pending'>;
  /**
   * Ends a pending schedule without touching the flag (cancelled, conflicted, failed), with its release event (`actor`
   * did it; null: the release worker); false when it was no longer pending.
   */
  closeSchedule(
    id: string,
    status: Exclude<ScheduleStatus, 'pending' | 'applied'>,
    outcome: string | null,
    at: Date,
    actor: Actor | null,
  ): Promise<boolean>;
  /**
   * Runs a pending schedule: the flag written if still at `expectedVersion`, with its audit entry and outbox row, and
   * the schedule marked applied, with its release event — all in one transaction, so that two workers cannot both
   * apply it. A flag that moved meanwhile marks it conflicted (or failed: gone), with that event instead.
   */
  applySchedule(
    id: string,
    flag: Flag,
    expectedVersion: number,
    write: WriteRecord,
    at: Date,
    actor: Actor,
  ): Promise<WriteOutcome | 'not-pending'>;

  /** False when the name is taken. */
  insertTemplate(template: ReleasePlanTemplate): Promise<boolean>;
  getTemplate(id: string): Promise<ReleasePlanTemplate | undefined>;
  listTemplates(): Promise<ReleasePlanTemplate[]>;
  /** False when there was none. */
  deleteTemplate(id: string): Promise<boolean>;

  /** False when another plan is running (active or paused) on that flag's environment. */
  insertPlan(plan: ReleasePlan, event: NewReleaseEvent): Promise<boolean>;
  getPlan(id: string): Promise<ReleasePlan | undefined>;
  /**
   * Newest first; `dueBy`: active plans whose next milestone is due by then (oldest due first); `guarded`: active
   * plans with guardrails (oldest first).
   */
  listPlans(filter: { flagKey?: string | undefined; dueBy?: Date | undefined; guarded?: boolean; limit: number }): Promise<ReleasePlan[]>;
  /** Replaces the plan (no change to the flag) if it is still at `expectedVersion`, with its release event if any. */
  updatePlan(plan: ReleasePlan, expectedVersion: number, event: NewReleaseEvent | null): Promise<WriteOutcome>;
  /** A plan's guardrails' last looks (not a change of the plan: its version stays). */
  saveGuardrailChecks(id: string, checks: GuardrailCheck[], sampleRatio: SampleRatioCheck | null): Promise<void>;
  /**
   * A plan's step: the flag written if still at `expectedFlagVersion`, with its audit entry and outbox row, and the
   * plan replaced if still at `expectedPlanVersion`, with its release event — all or nothing ('stale': the flag moved;
   * 'plan-moved').
   */
  applyPlanChange(
    plan: ReleasePlan,
    expectedPlanVersion: number,
    flag: Flag,
    expectedFlagVersion: number,
    write: WriteRecord,
    event: NewReleaseEvent | null,
  ): Promise<WriteOutcome | 'plan-moved'>;
  /** A flag's release events, newest first. */
  releaseEvents(
    flagKey: string,
    options: { limit: number; before?: number | undefined },
  ): Promise<{ items: ReleaseEvent[]; nextCursor: string | null }>;

  insertChangeRequest(request: ChangeRequest, event: NewReleaseEvent): Promise<void>;
  getChangeRequest(id: string): Promise<ChangeRequest | undefined>;
  /** Newest first; `waiting`: only open or approved ones. */
  listChangeRequests(filter: {
    flagKey?: string | undefined;
    project?: string | undefined;
    waiting?: boolean | undefined;
    limit: number;
  }): Promise<ChangeRequest[]>;
  /** Replaces the request if still at `expectedVersion`, with its release event (an approval, a rejection…) if any. */
  updateChangeRequest(request: ChangeRequest, expectedVersion: number, event: NewReleaseEvent | null): Promise<WriteOutcome>;
  /**
   * Applies an approved request: the request written as applied (if still approved at `requestVersion`) and the flag
   * (if still at `expectedVersion`) with its audit entry, outbox row and the request's release event, in one
   * transaction. 'stale': the flag moved (nothing written); 'request-moved': someone else applied, withdrew or
   * reviewed it first.
   */
  applyChangeRequest(
    applied: ChangeRequest,
    requestVersion: number,
    flag: Flag,
    expectedVersion: number,
    write: WriteRecord,
    event: NewReleaseEvent,
  ): Promise<WriteOutcome | 'request-moved'>;
}
