import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numericString, parseIsoDate, parseSemver, toEpochMillis, toNumber } from './coercion.ts';

describe('numericString', () => {
  it('reads plain decimal notation', () => {
    expect(numericString('5')).toBe(5);
    expect(numericString('-12.5')).toBe(-12.5);
    expect(numericString('.5')).toBe(0.5);
    expect(numericString('1e3')).toBe(1000);
    expect(numericString('+7')).toBe(7);
  });

  it('refuses blanks, hex, Infinity and text', () => {
    for (const text of ['', ' 5', '5 ', '0x10', 'Infinity', 'NaN', '1,5', 'five', '5px']) expect(numericString(text), text).toBeNaN();
  });

  it('agrees with Number() on every finite number written out', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        (n) => Object.is(numericString(String(n)), n) || (n === 0 && numericString(String(n)) === 0),
      ),
    );
  });

  it('reads only numbers and numeric strings as numbers', () => {
    expect(toNumber(3)).toBe(3);
    expect(toNumber('3')).toBe(3);
    expect(toNumber(true)).toBeNaN();
    expect(toNumber(null)).toBeNaN();
    expect(toNumber([3])).toBeNaN();
  });
});

describe('parseIsoDate', () => {
  it('reads dates, date-times and offsets', () => {
    expect(parseIsoDate('2025-03-01')).toBe(Date.UTC(2025, 2, 1));
    expect(parseIsoDate('2025-03-01T10:20Z')).toBe(Date.UTC(2025, 2, 1, 10, 20));
    expect(parseIsoDate('2025-03-01T10:20:30.250Z')).toBe(Date.UTC(2025, 2, 1, 10, 20, 30, 250));
    expect(parseIsoDate('2025-03-01T10:20:30.123456789Z')).toBe(Date.UTC(2025, 2, 1, 10, 20, 30, 123));
    expect(parseIsoDate('2025-03-01T10:00:00+02:00')).toBe(Date.UTC(2025, 2, 1, 8));
    expect(parseIsoDate('2025-03-01T10:00:00-0330')).toBe(Date.UTC(2025, 2, 1, 13, 30));
    expect(parseIsoDate('2025-03-01 10:00:00Z')).toBe(Date.UTC(2025, 2, 1, 10));
  });

  it('reads a date-time without an offset as UTC', () => {
    expect(parseIsoDate('2025-03-01T10:00:00')).toBe(Date.UTC(2025, 2, 1, 10));
  });

  it('refuses impossible calendar dates and times', () => {
    for (const text of [
      '2025-02-29',
      '2025-02-30',
      '2025-13-01',
      '2025-00-10',
      '2025-04-31',
      '2025-01-01T24:00:00Z',
      '2025-01-01T10:60Z',
      '2025-01-01T10:00:00+25:00',
    ]) {
      expect(parseIsoDate(text), text).toBeNaN();
    }
    expect(parseIsoDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoDate('2000-02-29')).toBe(Date.UTC(2000, 1, 29));
    expect(parseIsoDate('1900-02-29')).toBeNaN();
  });

  it('refuses other date formats', () => {
    for (const text of ['March 1, 2025', '01/03/2025', '2025-3-1', '20250301', '2025-03-01T10', ''])
      expect(parseIsoDate(text), text).toBeNaN();
  });

  it('agrees with Date on every instant written as toISOString', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
        (d) => parseIsoDate(d.toISOString()) === d.getTime(),
      ),
    );
  });

  it('takes epoch milliseconds as they are', () => {
    expect(toEpochMillis(1_700_000_000_000)).toBe(1_700_000_000_000);
    expect(toEpochMillis(Infinity)).toBeNaN();
    expect(toEpochMillis(false)).toBeNaN();
  });
});

describe('parseSemver', () => {
  it('parses strictly, with a leading v allowed', () => {
    expect(parseSemver('1.2.3')?.version).toBe('1.2.3');
    expect(parseSemver('v1.2.3')?.version).toBe('1.2.3');
    expect(parseSemver('1.2.3-beta.1+build')?.version).toBe('1.2.3-beta.1');
    expect(parseSemver('1.2')).toBeNull();
    expect(parseSemver('=1.2.3')).toBeNull();
    expect(parseSemver('latest')).toBeNull();
  });

  it('answers the same from its cache', () => {
    expect(parseSemver('3.4.5')).toBe(parseSemver('3.4.5'));
  });
});
