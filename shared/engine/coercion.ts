import semver from 'semver';
import type { SemVer } from 'semver';

/**
 * How context values and condition values are read as numbers, dates and versions. Every function here answers
 * NaN or null for what it cannot read; none throws. docs/targeting.md ("Coercion") is the prose form of this file.
 */

/** Plain decimal notation only: `-12`, `3.5`, `.5`, `1e3`. No hex, no blanks, no `Infinity`. */
const decimal = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A numeric string as a number, or NaN when the string is not plain decimal notation. */
export function numericString(value: string): number {
  return value.length > 0 && value.length <= 64 && decimal.test(value) ? Number(value) : NaN;
}

/** Numbers as they are (NaN stays NaN), numeric strings converted, everything else NaN. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return numericString(value);
  return NaN;
}

/**
 * ISO-8601 calendar dates and date-times: `2025-03-01`, `2025-03-01T10:00Z`, `2025-03-01T10:00:00.250+02:00`
 * (a space may stand for the `T`). A date-time without an offset is read as UTC, so the answer never depends on the
 * machine's time zone. Days, months, hours and minutes are range-checked (no 30 February).
 */
const isoDate = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;

const daysInMonth = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Epoch milliseconds of an ISO-8601 string, or NaN. */
export function parseIsoDate(text: string): number {
  if (text.length > 40) return NaN;
  const m = isoDate.exec(text);
  if (m === null) return NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1) return NaN;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const maxDay = month === 2 && !leap ? 28 : (daysInMonth[month - 1] ?? 31);
  if (day > maxDay) return NaN;
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (hour > 23 || minute > 59 || second > 59) return NaN;
  const millis = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const zoneHours = Number(digits.slice(0, 2));
    const zoneMinutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (zoneHours > 23 || zoneMinutes > 59) return NaN;
    offsetMinutes = sign * (zoneHours * 60 + zoneMinutes);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime() - offsetMinutes * 60_000;
}

/** A context value as epoch milliseconds: an ISO-8601 string, or a finite number taken as epoch ms; else NaN. */
export function toEpochMillis(value: unknown): number {
  if (typeof value === 'string') return parseIsoDate(value);
  if (typeof value === 'number') return Number.isFinite(value) ? value : NaN;
  return NaN;
}

/**
 * A version with `semver` (strict: no coercion of `1.2` to `1.2.0`; a leading `v` and surrounding blanks allowed),
 * or null. Parsed versions are kept in a bounded cache: contexts repeat a handful of app versions, and parsing is
 * the only allocation a semver condition would otherwise make per evaluation.
 */
const semverCache = new Map<string, SemVer | null>();
const semverCacheLimit = 10_000;

export function parseSemver(text: string): SemVer | null {
  const cached = semverCache.get(text);
  if (cached !== undefined) return cached;
  const parsed = text.length <= 256 ? semver.parse(text, { loose: false }) : null;
  if (semverCache.size >= semverCacheLimit) semverCache.clear();
  semverCache.set(text, parsed);
  return parsed;
}
