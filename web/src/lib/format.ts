import type { Condition, Operator, Reason, Serve } from '../api/types.ts';

/** A value as a short, readable literal: strings quoted, objects as compact JSON. */
export function formatValue(value: unknown, max = 120): string {
  if (value === undefined) return '—';
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export function formatDateTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

export function formatTime(iso: string | number): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : timeOnly.format(date);
}

export function relativeTime(iso: string, now = Date.now()): string {
  const seconds = Math.round((now - new Date(iso).getTime()) / 1000);
  if (!Number.isFinite(seconds)) return iso;
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  return days < 30 ? `${days} d ago` : formatDateTime(iso);
}

export const reasonText: Record<Reason, string> = {
  STATIC: 'The flag has no rules: everyone gets the default.',
  TARGETING_MATCH: 'A rule matched and served one variant.',
  SPLIT: 'A percentage split chose the variant (sticky for this targeting key).',
  DEFAULT: 'No rule matched: the default serve applied.',
  DISABLED: 'The flag is off here (or a prerequisite is not met): the off variant was served.',
  ERROR: 'The flag could not be evaluated for this context.',
};

export const operatorLabels: Record<Operator, string> = {
  eq: 'equals',
  neq: 'does not equal',
  in: 'is one of',
  not_in: 'is not one of',
  contains: 'contains',
  starts_with: 'starts with',
  ends_with: 'ends with',
  matches: 'matches regex',
  lt: '<',
  lte: '≤',
  gt: '>',
  gte: '≥',
  semver_eq: 'version =',
  semver_lt: 'version <',
  semver_gt: 'version >',
  before: 'is before',
  after: 'is after',
  exists: 'exists',
  not_exists: 'does not exist',
  in_segment: 'is in segment',
  not_in_segment: 'is not in segment',
};

/** "country is one of BR, US" */
export function describeCondition(condition: Condition): string {
  const values = condition.values.map((v) => (typeof v === 'string' ? v : formatValue(v))).join(', ');
  const text = `${condition.attribute} ${operatorLabels[condition.operator]}${values ? ` ${values}` : ''}`;
  return condition.negate ? `NOT (${text})` : text;
}

/** "50% on · 50% off" or "on". */
export function describeServe(serve: Serve): string {
  if (serve.variant !== undefined) return serve.variant;
  const slices = (serve.rollout ?? []).map((s) => `${s.weight}% ${s.variant}`).join(' · ');
  return serve.bucketBy ? `${slices} (by ${serve.bucketBy})` : slices;
}

/** Lower-case slug from a name: "New checkout flow" → "new-checkout-flow". */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100);
}

export const slugPattern = /^[a-z0-9]+(?:[-_.][a-z0-9]+)*$/;
export const variantKeyPattern = /^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$/;
export const tagPattern = /^[a-z0-9]+(?:[-_.:/][a-z0-9]+)*$/;
export const attributePattern = /^[A-Za-z_$][A-Za-z0-9_$-]*(\.[A-Za-z_$][A-Za-z0-9_$-]*)*$/;

/** Environments whose changes hit real users: switching them asks for a confirmation. */
export function isProductionLike(environment: string): boolean {
  return /^prod/i.test(environment);
}

/** One colour per variant, by its place in the flag's list: the split editor and the analytics chart agree. */
export const variantPalette = [
  '#3f3cbb',
  '#1f9d55',
  '#d97706',
  '#db2777',
  '#0891b2',
  '#7c3aed',
  '#65a30d',
  '#dc2626',
  '#475569',
  '#0d9488',
];
export function variantColor(index: number): string {
  return variantPalette[((index % variantPalette.length) + variantPalette.length) % variantPalette.length]!;
}
