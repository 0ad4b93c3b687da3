import type { EnvironmentPatch, Flag, ScheduledChange, ScheduleStatus } from '../api/types.ts';
import { describeServe, relativeTime } from './format.ts';

/**
 * Scheduled changes in words and in the person's own time: times are entered and shown in the browser's time zone
 * (and say which), and sent as ISO UTC.
 */

/** The furthest ahead the flags service accepts a time (it allows 366 days; a year keeps clear of the edge). */
export const maxAheadMs = 365 * 24 * 3600_000;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A date as a `datetime-local` input's value, in the browser's time zone: "2025-03-12T14:30:05". */
export function toLocalInput(date: Date): string {
  return (
    `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** A `datetime-local` input's value ("2025-03-12T14:30" or with seconds) read in the browser's time zone. */
export function fromLocalInput(text: string): Date | undefined {
  const parts = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(text.trim());
  if (!parts) return undefined;
  const [year, month, day, hours, minutes, seconds] = parts.slice(1).map((p) => Number(p ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const date = new Date(year, month - 1, day, hours, minutes, seconds);
  // 2025-02-30 would roll over to March: refuse it rather than schedule another day.
  return date.getDate() === day && date.getMonth() === month - 1 ? date : undefined;
}

/** Why a time cannot be scheduled, or undefined when it can. */
export function checkRunAt(date: Date | undefined, now = Date.now()): string | undefined {
  if (!date) return 'Choose a date and a time';
  if (date.getTime() <= now) return 'Choose a time in the future';
  if (date.getTime() - now > maxAheadMs) return 'Choose a time within a year';
  return undefined;
}

/** The next full quarter hour at least `minutesAhead` from now: a sensible first choice. */
export function suggestedRunAt(now = Date.now(), minutesAhead = 60): Date {
  const quarter = 15 * 60_000;
  return new Date(Math.ceil((now + minutesAhead * 60_000) / quarter) * quarter);
}

/** The browser's time zone: "Europe/Paris" (or "UTC"). */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
}

/** The browser's offset from UTC at `date` (daylight saving time included): "UTC+01:00", "UTC−05:00", "UTC". */
export function utcOffset(date: Date): string {
  const minutes = -date.getTimezoneOffset();
  if (minutes === 0) return 'UTC';
  const abs = Math.abs(minutes);
  return `UTC${minutes > 0 ? '+' : '−'}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** "your time zone, Europe/Paris (UTC+01:00)" */
export function timeZoneNote(date = new Date()): string {
  return `your time zone, ${localTimeZone()} (${utcOffset(date)})`;
}

const when = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});
const whenWithSeconds = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  timeZoneName: 'short',
});

/** "Wed, 12 Mar 2025, 14:30 CET" in the browser's time zone (with the seconds when there are some). */
export function formatWhen(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return (date.getSeconds() === 0 && date.getMilliseconds() === 0 ? when : whenWithSeconds).format(date);
}

/** "2025-03-12 13:30:05 UTC": what is sent. */
export function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** "in 8 s", "in 25 min", "in 3 h 20 min", "in 30 h", "in 12 d"; past times as relativeTime says them ("2 min ago"). */
export function relativeToNow(iso: string, now = Date.now()): string {
  const ms = new Date(iso).getTime() - now;
  if (!Number.isFinite(ms)) return iso;
  if (ms <= 0) return relativeTime(iso, now);
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `in ${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `in ${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours < 48) return rest > 0 ? `in ${hours} h ${rest} min` : `in ${hours} h`;
  return `in ${Math.round(hours / 24)} d`;
}

/** What a change does, in words: "Turn it on and serve 10% on · 90% off when no rule matches", "Serve “beta” when…". */
export function describeChange(change: EnvironmentPatch, variantLabel: (key: string) => string = (key) => key): string {
  const parts: string[] = [];
  if (change.enabled !== undefined) parts.push(change.enabled ? 'turn it on' : 'turn it off');
  const quoted = (key: string) => `“${variantLabel(key)}”`;
  if (change.defaultServe)
    parts.push(
      `serve ${change.defaultServe.variant !== undefined ? quoted(change.defaultServe.variant) : describeServe(change.defaultServe)} when no rule matches`,
    );
  if (change.offVariant !== undefined) parts.push(`make ${quoted(change.offVariant)} the off variant`);
  if (change.prerequisites)
    parts.push(
      change.prerequisites.length === 0
        ? 'drop its prerequisites'
        : `require ${change.prerequisites.map((p) => `${p.flagKey} to serve “${p.variant}”`).join(' and ')}`,
    );
  if (parts.length === 0) return 'Change nothing';
  const sentence = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)!}`;
  return sentence[0]!.toUpperCase() + sentence.slice(1);
}

export const statusLabels: Record<ScheduleStatus, string> = {
  pending: 'Pending',
  applied: 'Applied',
  conflicted: 'Not applied: conflict',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export const statusTones: Record<ScheduleStatus, 'neutral' | 'on' | 'off' | 'warn' | 'info'> = {
  pending: 'info',
  applied: 'on',
  conflicted: 'warn',
  failed: 'off',
  cancelled: 'neutral',
};

/** Pending ones earliest first (as the service lists them). */
export function pendingOf(schedules: ScheduledChange[], environment?: string): ScheduledChange[] {
  return schedules
    .filter((s) => s.status === 'pending' && (environment === undefined || s.environment === environment))
    .sort((a, b) => a.runAt.localeCompare(b.runAt));
}

/** Finished ones (ran or cancelled), the most recently closed first. */
export function finishedOf(schedules: ScheduledChange[], environment?: string): ScheduledChange[] {
  return schedules
    .filter((s) => s.status !== 'pending' && (environment === undefined || s.environment === environment))
    .sort((a, b) => (b.closedAt ?? b.updatedAt).localeCompare(a.closedAt ?? a.updatedAt));
}

/** The list with `schedule` in it (replacing the one with its id), earliest first. */
export function withSchedule(schedules: ScheduledChange[], schedule: ScheduledChange): ScheduledChange[] {
  return [...schedules.filter((s) => s.id !== schedule.id), schedule].sort((a, b) => a.runAt.localeCompare(b.runAt));
}

/**
 * The fields a pending change sets that moved since it was planned (someone's edit, or another change that ran):
 * at its time it will be recorded as a conflict. Changes planned before their state was kept compare versions.
 */
export function movedSincePlanned(schedule: ScheduledChange, flag: Flag): string[] {
  if (!schedule.plannedState) return schedule.plannedVersion < flag.version ? ['the flag'] : [];
  const current = flag.environments[schedule.environment];
  const planned = schedule.plannedState;
  return (Object.keys(schedule.change) as (keyof typeof planned)[]).filter(
    (field) => JSON.stringify(current?.[field]) !== JSON.stringify(planned[field]),
  );
}
