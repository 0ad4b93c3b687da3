import { Type, type Static } from 'typebox';
import { EnvironmentPatch } from '../../../shared/contracts/flag-model.ts';
import { Timestamp, Uuid } from '../../../shared/http/schemas.ts';

/** How a scheduled change ended, or that it has not run yet. */
export const scheduleStatuses = ['pending', 'applied', 'conflicted', 'failed', 'cancelled'] as const;
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

export const ScheduledChangeSchema = Type.Object(
  {
    id: Uuid,
    flagKey: Type.String(),
    environment: Type.String(),
    change: EnvironmentPatch,
    runAt: Timestamp,
    plannedVersion: Type.Integer(),
    status: Type.Enum([...scheduleStatuses]),
    outcome: Type.Union([Type.String(), Type.Null()]),
    createdBy: Type.Object({ userId: Type.String(), email: Type.String() }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    closedAt: Type.Union([Timestamp, Type.Null()]),
    version: Type.Integer(),
  },
  { $id: 'ScheduledChange' },
);
export type ScheduledChangeDocument = Static<typeof ScheduledChangeSchema>;

export const scheduleView = (s: ScheduledChange): ScheduledChangeDocument => ({
  ...s,
  runAt: s.runAt.toISOString(),
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
  closedAt: s.closedAt?.toISOString() ?? null,
});
