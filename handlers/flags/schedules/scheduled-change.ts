import type { Static } from 'typebox';
import type { EnvironmentPatch, EnvironmentState } from '../../../shared/contracts/flag-model.ts';
import { ScheduledChangeSchema, scheduleStatuses } from '../../../shared/contracts/flags-api.ts';

// The answer's schema is the console's too: it lives with the flags API's other answers.
export { ScheduledChangeSchema, scheduleStatuses };
export type ScheduleStatus = (typeof scheduleStatuses)[number];

/**
 * A change to a flag's environment planned for a time: the record in the flags database is the truth (the alarm
 * that wakes the release worker is only a reminder). It is applied once, through the same checks as a person's
 * change, against the flag version it was planned on: if the flag moved since, it is recorded as a conflict, not forced.
 */
export interface ScheduledChange {
  id: string;
  flagKey: string;
  environment: string;
  change: EnvironmentPatch;
  runAt: Date;
  /** The flag version the change was planned against (its If-Match when it runs). */
  plannedVersion: number;
  /** The environment's state it was planned on (null for changes planned before this was kept: the version decides). */
  plannedState: EnvironmentState | null;
  status: ScheduleStatus;
  /** Why it conflicted or failed, in words. */
  outcome: string | null;
  createdBy: { userId: string; email: string };
  createdAt: Date;
  updatedAt: Date;
  /** When it ran (applied, conflicted or failed) or was cancelled. */
  closedAt: Date | null;
  /** Grows with each edit: the schedule's own ETag. */
  version: number;
}

export type ScheduledChangeDocument = Static<typeof ScheduledChangeSchema>;

export const scheduleView = (s: ScheduledChange): ScheduledChangeDocument => ({
  ...s,
  runAt: s.runAt.toISOString(),
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
  closedAt: s.closedAt?.toISOString() ?? null,
});
