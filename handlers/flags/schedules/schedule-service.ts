import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { EnvironmentPatch, EnvironmentState } from '../../../shared/contracts/flag-model.ts';
import type { Principal } from '../../../shared/http/authenticate.ts';
import { assertIfMatch } from '../../../shared/http/if-match.ts';
import { AppError } from '../../../shared/http/problem.ts';
import type { FlagService } from '../flag-service.ts';
import type { FlagStore } from '../flag-store.ts';
import type { ScheduledChange } from './scheduled-change.ts';

/** Reminds the release worker of a schedule at its time. Best effort: the worker also sweeps the records for due ones. */
export interface AlarmClock {
  set(schedule: Pick<ScheduledChange, 'id' | 'runAt'>): Promise<void>;
}

/** What running a schedule came to: applied, or why not. */
export type RunOutcome = 'applied' | 'conflicted' | 'failed' | 'not-due' | 'not-pending';

/**
 * Why a change cannot run as planned, or undefined: a field it changes moved since it was planned (another person's
 * change, or another schedule's). Changes to other fields or environments do not matter. A change planned before
 * its state was kept falls back to the flag's version.
 */
export function movedSincePlanned(
  schedule: Pick<ScheduledChange, 'change' | 'plannedState' | 'plannedVersion'>,
  current: EnvironmentState | undefined,
  flagVersion: number,
): string | undefined {
  if (!schedule.plannedState) {
    return flagVersion === schedule.plannedVersion
      ? undefined
      : `the flag changed after this was planned (planned on version ${schedule.plannedVersion}, now ${flagVersion})`;
  }
  const fields = (Object.keys(schedule.change) as (keyof EnvironmentState)[]).filter(
    // Compared as values: PostgreSQL's jsonb gives the keys back in an order of its own.
    (field) => !isDeepStrictEqual(current?.[field], schedule.plannedState![field]),
  );
  return fields.length === 0 ? undefined : `${fields.join(', ')} changed after this was planned (on version ${schedule.plannedVersion})`;
}

/** The furthest ahead a change may be scheduled. */
const maxAheadMs = 366 * 24 * 3600_000;

export function createScheduleService(deps: {
  store: FlagStore;
  flags: FlagService;
  alarm: AlarmClock;
  /** Told when an alarm could not be set (the sweep still finds the schedule): logged by the caller. */
  onAlarmFailure: (error: unknown, schedule: ScheduledChange) => void;
  now?: () => Date;
}) {
  const { store, flags } = deps;
  const now = deps.now ?? (() => new Date());

  function runAtOf(text: string): Date {
    const runAt = new Date(text);
    const ahead = runAt.getTime() - now().getTime();
    if (ahead <= 0)
      throw new AppError('VALIDATION_FAILED', 'runAt must be in the future', {
        errors: [{ path: 'body/runAt', message: 'is not in the future' }],
      });
    if (ahead > maxAheadMs)
      throw new AppError('VALIDATION_FAILED', 'runAt is more than a year ahead', {
        errors: [{ path: 'body/runAt', message: 'is more than a year ahead' }],
      });
    return runAt;
  }

  async function arm(schedule: ScheduledChange): Promise<void> {
    await deps.alarm.set(schedule).catch((error: unknown) => deps.onAlarmFailure(error, schedule));
  }

  async function loadOf(key: string, id: string): Promise<ScheduledChange> {
    const schedule = await store.getSchedule(id);
    if (!schedule || schedule.flagKey !== key) throw new AppError('NOT_FOUND', `No scheduled change ${id} of flag "${key}"`);
    return schedule;
  }

  return {
    /**
     * Plans `change` for `runAt` against the flag as it is now (its version is the If-Match the change will run
     * with). The change is checked now as it will be then: a change that could not be made now is refused now.
     */
    async create(
      key: string,
      environment: string,
      input: { runAt: string; change: EnvironmentPatch },
      ifMatch: string | undefined,
      actor: Principal,
      /** Set when an approved change request creates it: a protected environment takes it then. */
      approved?: { changeRequestId: string },
    ) {
      await flags.assertEnvironment(environment);
      if (!approved) await flags.assertUnprotected(environment, 'schedule a change');
      const runAt = runAtOf(input.runAt);
      const flag = await flags.get(key);
      assertIfMatch(flag.version, ifMatch, 'flag');
      await flags.planEnvironmentChange(flag, environment, input.change);
      const at = now();
      const schedule: ScheduledChange = {
        id: randomUUID(),
        flagKey: key,
        environment,
        change: input.change,
        runAt,
        plannedVersion: flag.version,
        plannedState: flag.environments[environment]!,
        status: 'pending',
        outcome: null,
        createdBy: { userId: actor.userId, email: actor.email },
        createdAt: at,
        updatedAt: at,
        closedAt: null,
        version: 1,
      };
      await store.insertSchedule(schedule);
      await arm(schedule);
      return schedule;
    },

    async list(key: string) {
      await flags.get(key);
      // Every pending change (earliest first), then the latest 100 that ended: a long history never hides what is to come.
      const [pending, closed] = await Promise.all([
        store.listSchedules({ flagKey: key, status: 'pending', limit: 1_000 }),
        store.listSchedules({ flagKey: key, closed: true, limit: 100 }),
      ]);
      return [...pending, ...closed];
    },

    /** Moves or changes a pending schedule; it is planned again against the flag as it is now. */
    async update(
      key: string,
      id: string,
      input: { runAt?: string | undefined; change?: EnvironmentPatch | undefined },
      ifMatch: string | undefined,
    ) {
      const current = await loadOf(key, id);
      assertIfMatch(current.version, ifMatch, 'scheduled change');
      if (current.status !== 'pending')
        throw new AppError('CONFLICT', `This change ${current.status === 'cancelled' ? 'was already cancelled' : 'already ran'}`);
      // An approved schedule is changed by a new request (cancel this one; cancelling needs none).
      await flags.assertUnprotected(current.environment, 'change a scheduled change');
      const flag = await flags.get(key);
      const change = input.change ?? current.change;
      await flags.planEnvironmentChange(flag, current.environment, change);
      const next: ScheduledChange = {
        ...current,
        change,
        runAt: input.runAt === undefined ? current.runAt : runAtOf(input.runAt),
        plannedVersion: flag.version,
        plannedState: flag.environments[current.environment]!,
        updatedAt: now(),
        version: current.version + 1,
      };
      const outcome = await store.updateSchedule(next, current.version);
      if (outcome === 'not-pending') throw new AppError('CONFLICT', 'This change ran or was cancelled meanwhile');
      if (outcome === 'stale') throw new AppError('CONFLICT', 'Someone else changed this schedule at the same moment; reload it');
      if (outcome === 'not-found') throw new AppError('NOT_FOUND', `No scheduled change ${id}`);
      await arm(next);
      return next;
    },

    async cancel(key: string, id: string, actor: Principal) {
      const current = await loadOf(key, id);
      if (
        !(await store.closeSchedule(id, 'cancelled', `cancelled by ${actor.email}`, now(), { userId: actor.userId, email: actor.email }))
      ) {
        throw new AppError('CONFLICT', `This change ${current.status === 'cancelled' ? 'was already cancelled' : 'already ran'}`);
      }
    },

    /**
     * Runs a schedule whose time has come (the release worker, on its alarm or its sweep): through the same checks
     * as a person's change, with the version it was planned on as If-Match, in one transaction with marking it
     * applied — so it runs once, however many workers are woken. A flag that moved is a conflict, recorded.
     */
    async run(id: string): Promise<RunOutcome> {
      const schedule = await store.getSchedule(id);
      if (schedule?.status !== 'pending') return 'not-pending';
      // An alarm set for an earlier time (the schedule was moved since) or a clock a little ahead.
      if (schedule.runAt.getTime() > now().getTime() + 50) return 'not-due';
      const close = async (status: 'conflicted' | 'failed', outcome: string): Promise<RunOutcome> =>
        (await store.closeSchedule(id, status, outcome, now(), null)) ? status : 'not-pending';
      const flag = await store.get(schedule.flagKey);
      if (!flag) return close('failed', 'the flag was deleted');
      // Archiving cancels pending schedules; one planned at the same moment as the archive ends here.
      if (flag.archivedAt) return close('failed', 'the flag is archived');
      const moved = movedSincePlanned(schedule, flag.environments[schedule.environment], flag.version);
      if (moved) return close('conflicted', moved);
      let next;
      try {
        next = await flags.planEnvironmentChange(flag, schedule.environment, schedule.change);
      } catch (error) {
        if (error instanceof AppError && error.status < 500) return close('failed', error.message);
        throw error;
      }
      const write = flags.environmentWrite(flag, next, schedule.createdBy, schedule.environment, { scheduleId: id });
      // Written against the version just read: a change to the flag in between is caught by the transaction.
      const outcome = await store.applySchedule(id, next, flag.version, write, now(), schedule.createdBy);
      return outcome === 'ok' ? 'applied' : outcome === 'stale' ? 'conflicted' : outcome === 'not-found' ? 'failed' : 'not-pending';
    },

    /** Pending schedules whose time has come by `dueBy`, earliest first (the worker's sweep). */
    due: (dueBy: Date, limit: number) => store.listSchedules({ dueBy, limit }),
    /** Every pending schedule, to set their alarms again (the worker's start: the alarms may have been lost). */
    pending: (limit: number) => store.listSchedules({ status: 'pending', limit }),
    arm,
  };
}

export type ScheduleService = ReturnType<typeof createScheduleService>;
