import { describe, expect, it } from 'vitest';
import type { Flag, ScheduledChange } from '../api/types.ts';
import {
  checkRunAt,
  describeChange,
  finishedOf,
  fromLocalInput,
  pendingOf,
  relativeToNow,
  suggestedRunAt,
  toLocalInput,
  utcOffset,
  withSchedule,
  movedSincePlanned,
} from './schedules.ts';

describe('scheduled changes in the console', () => {
  it('reads and writes times in the browser time zone, and sends them as UTC', () => {
    const local = new Date(2031, 2, 9, 14, 30, 5);
    expect(toLocalInput(local)).toBe('2031-03-09T14:30:05');
    expect(fromLocalInput('2031-03-09T14:30:05')?.getTime()).toBe(local.getTime());
    expect(fromLocalInput('2031-03-09T14:30')?.getTime()).toBe(new Date(2031, 2, 9, 14, 30).getTime());
    // What is sent is the same instant, in UTC.
    expect(new Date(fromLocalInput('2031-03-09T14:30:05')!.toISOString()).getTime()).toBe(local.getTime());
    expect(fromLocalInput('2031-02-30T10:00')).toBeUndefined();
    expect(fromLocalInput('tomorrow')).toBeUndefined();
    expect(fromLocalInput('')).toBeUndefined();
    expect(utcOffset(local)).toMatch(/^UTC([+−]\d{2}:\d{2})?$/);
  });

  it('refuses a time that is not ahead, or more than a year ahead', () => {
    const now = Date.UTC(2031, 0, 1);
    expect(checkRunAt(undefined, now)).toBe('Choose a date and a time');
    expect(checkRunAt(new Date(now), now)).toBe('Choose a time in the future');
    expect(checkRunAt(new Date(now + 1000), now)).toBeUndefined();
    expect(checkRunAt(new Date(now + 366 * 24 * 3600_000), now)).toBe('Choose a time within a year');
    const suggested = suggestedRunAt(now);
    expect(suggested.getTime() - now).toBeGreaterThanOrEqual(3600_000);
    expect(suggested.getTime() % (15 * 60_000)).toBe(0);
  });

  it('says when, relative to now', () => {
    const now = Date.UTC(2031, 0, 1, 12);
    const at = (ms: number) => new Date(now + ms).toISOString();
    expect(relativeToNow(at(7_400), now)).toBe('in 8 s');
    expect(relativeToNow(at(25 * 60_000), now)).toBe('in 25 min');
    expect(relativeToNow(at(200 * 60_000), now)).toBe('in 3 h 20 min');
    expect(relativeToNow(at(30 * 3600_000), now)).toBe('in 30 h');
    expect(relativeToNow(at(3 * 24 * 3600_000), now)).toBe('in 3 d');
    expect(relativeToNow(at(-5 * 60_000), now)).toBe('5 min ago');
  });

  it('says what a change does, in words', () => {
    const label = (key: string) => ({ on: 'On', off: 'Off' })[key] ?? key;
    expect(describeChange({ enabled: false })).toBe('Turn it off');
    expect(describeChange({ enabled: true, defaultServe: { variant: 'on' } }, label)).toBe(
      'Turn it on and serve “On” when no rule matches',
    );
    expect(
      describeChange({
        defaultServe: {
          rollout: [
            { variant: 'on', weight: 10 },
            { variant: 'off', weight: 90 },
          ],
        },
        offVariant: 'off',
        prerequisites: [],
      }),
    ).toBe('Serve 10% on · 90% off when no rule matches, make “off” the off variant and drop its prerequisites');
    expect(describeChange({ prerequisites: [{ flagKey: 'new-ui', variant: 'on' }] })).toBe('Require new-ui to serve “on”');
  });

  it('sorts pending ones by time and finished ones latest first', () => {
    const base: ScheduledChange = {
      id: 'a',
      flagKey: 'f',
      environment: 'production',
      change: { enabled: true },
      runAt: '2031-01-01T10:00:00.000Z',
      plannedVersion: 1,
      plannedState: { enabled: false, offVariant: 'off', defaultServe: { variant: 'off' }, prerequisites: [] },
      status: 'pending',
      outcome: null,
      createdBy: { userId: 'u', email: 'alice@example.com' },
      createdAt: '2030-12-01T10:00:00.000Z',
      updatedAt: '2030-12-01T10:00:00.000Z',
      closedAt: null,
      version: 1,
    };
    const list = [
      { ...base, id: 'late', runAt: '2031-01-02T10:00:00.000Z' },
      { ...base, id: 'dev', environment: 'development' },
      { ...base, id: 'early', runAt: '2030-12-31T10:00:00.000Z' },
      { ...base, id: 'old', status: 'applied' as const, closedAt: '2030-12-02T10:00:00.000Z' },
      { ...base, id: 'new', status: 'cancelled' as const, closedAt: '2030-12-03T10:00:00.000Z' },
    ];
    expect(pendingOf(list, 'production').map((s) => s.id)).toEqual(['early', 'late']);
    expect(pendingOf(list).map((s) => s.id)).toEqual(['early', 'dev', 'late']);
    expect(finishedOf(list, 'production').map((s) => s.id)).toEqual(['new', 'old']);
    const moved = withSchedule(list, { ...base, id: 'late', runAt: '2030-12-30T10:00:00.000Z', version: 2 });
    expect(moved.map((s) => s.id)).toEqual(['late', 'early', 'dev', 'old', 'new']);
    expect(moved.filter((s) => s.id === 'late')).toHaveLength(1);
  });

  it('names the fields a pending change sets that moved since it was planned, and nothing for edits elsewhere', () => {
    const planned = { enabled: false, offVariant: 'off', defaultServe: { variant: 'off' }, prerequisites: [] };
    const schedule: ScheduledChange = {
      id: 's',
      flagKey: 'f',
      environment: 'production',
      change: { enabled: true },
      runAt: '2031-01-01T10:00:00.000Z',
      plannedVersion: 1,
      plannedState: planned,
      status: 'pending',
      outcome: null,
      createdBy: { userId: 'u', email: 'u@example.com' },
      createdAt: '2030-12-31T10:00:00.000Z',
      updatedAt: '2030-12-31T10:00:00.000Z',
      closedAt: null,
      version: 1,
    };
    const flag = (production: typeof planned, version = 2) => ({ version, environments: { production } }) as unknown as Flag;
    expect(movedSincePlanned(schedule, flag({ ...planned, offVariant: 'on' }))).toEqual([]);
    expect(movedSincePlanned(schedule, flag({ ...planned, enabled: true }))).toEqual(['enabled']);
    expect(movedSincePlanned({ ...schedule, plannedState: null }, flag(planned, 3))).toEqual(['the flag']);
  });
});
