import type { Change } from '../../../shared/audit/diff.ts';
import type { ChangeCause } from '../../../shared/contracts/flags-api.ts';
import type { WebhookEvent, WebhookEventType, WebhookFormat } from '../../../shared/contracts/webhooks-api.ts';
import { webhookEventGroups, webhookEventTypes } from '../../../shared/contracts/webhooks-api.ts';
import type { ReleaseEvent, ReleaseEventType } from '../release-events.ts';

type Actor = { userId: string; email: string };

/** A subscription: where a project's events go, which of them, in which shape, signed with its secret. */
export interface Webhook {
  id: string;
  /** Events of this project's flags are what it receives. */
  project: string;
  name: string;
  url: string;
  events: string[];
  format: WebhookFormat;
  enabled: boolean;
  secret: string;
  createdBy: Actor;
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookAttempt {
  at: Date;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** One event on its way to one webhook: the queue the worker sends from, and the log the console shows. */
export interface WebhookDelivery {
  id: number;
  webhookId: string;
  eventId: string;
  eventType: WebhookEventType;
  /** '' for events about no flag (the test button's): they travel in a lane of their own. */
  flagKey: string;
  payload: unknown;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: Date;
  /** Still failing then, it is given up. */
  expiresAt: Date;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: Date;
  closedAt: Date | null;
}

/** Whether a subscription's list (`*`, `flag.*`, `plan.rolled-back`, …) takes an event of this type. */
export function subscribes(filters: readonly string[], type: WebhookEventType): boolean {
  if (type === 'webhook.test') return true;
  return filters.some((filter) => filter === '*' || filter === type || (filter.endsWith('.*') && type.startsWith(filter.slice(0, -1))));
}

export const isKnownFilter = (filter: string) =>
  (webhookEventGroups as readonly string[]).includes(filter) || (webhookEventTypes as readonly string[]).includes(filter);

/** What a flag's audit entry says to a webhook (the audit trail is where flag changes are recorded). */
export interface AuditSource {
  id: number;
  flagKey: string;
  action: string;
  environment: string | null;
  actor: Actor;
  at: Date;
  version: number;
  changes: Change[];
  cause: ChangeCause | null;
}

/** What a release event says to a webhook: the event as recorded (release-events.ts). */
export type ReleaseSource = ReleaseEvent;

const flagActionWords: Record<string, string> = {
  created: 'created',
  updated: 'changed',
  'environment-updated': 'changed',
  deleted: 'deleted',
  archived: 'archived',
  restored: 'restored',
  purged: 'purged',
};

const inEnvironment = (environment: string | null) => (environment ? ` in ${environment}` : '');

/** "ann@example.com changed new-checkout in production (enabled: false → true)". */
function auditSummary(entry: AuditSource): string {
  const shown = entry.changes.slice(0, 3).map((c) => `${c.path.replace(/^\//, '')}: ${brief(c.before)} → ${brief(c.after)}`);
  const more = entry.changes.length > 3 ? `, and ${entry.changes.length - 3} more` : '';
  const what = entry.action === 'updated' || entry.action === 'environment-updated' ? ` (${shown.join(', ')}${more})` : '';
  const why = !entry.cause ? '' : 'copiedFrom' in entry.cause ? ` (copied from ${entry.cause.copiedFrom})` : ' by a scheduled change';
  return `${entry.actor.email} ${flagActionWords[entry.action] ?? entry.action} ${entry.flagKey}${inEnvironment(entry.environment)}${why}${what}`;
}

function brief(value: unknown): string {
  const text = value === undefined ? '—' : JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

const releaseWords: Record<ReleaseEventType, string> = {
  'schedule.applied': 'Scheduled change applied',
  'schedule.conflicted': 'Scheduled change not applied (the flag changed since it was planned)',
  'schedule.failed': 'Scheduled change failed',
  'schedule.cancelled': 'Scheduled change cancelled',
  'plan.started': 'Release plan started',
  'plan.milestone': 'Release plan moved to a milestone',
  'plan.awaiting-approval': 'Release plan waiting for approval',
  'plan.approved': 'Release plan milestone approved',
  'plan.paused': 'Release plan paused',
  'plan.resumed': 'Release plan resumed',
  'plan.completed': 'Release plan completed',
  'plan.rolled-back': 'Release plan rolled back',
  'change-request.opened': 'Change request opened',
  'change-request.approved': 'Change request approved',
  'change-request.rejected': 'Change request rejected',
  'change-request.applied': 'Change request applied',
};

function releaseSummary(event: ReleaseSource): string {
  const milestone = event.milestone !== null && event.milestone >= 0 ? ` (milestone ${event.milestone + 1})` : '';
  const by = event.actor ? ` by ${event.actor.email}` : '';
  const detail = event.detail ? `: ${event.detail}` : '';
  return `${releaseWords[event.type]}${milestone} on ${event.flagKey} in ${event.environment}${by}${detail}`;
}

/** Each source's events are told apart by a prefix; the id is stable, so a retried delivery carries the same one. */
export const auditEventOf = (entry: AuditSource): WebhookEvent => ({
  id: `evt_a${entry.id}`,
  type: `flag.${entry.action}` as WebhookEventType,
  occurredAt: entry.at.toISOString(),
  flagKey: entry.flagKey,
  environment: entry.environment,
  actor: entry.actor,
  summary: auditSummary(entry),
  data: { action: entry.action, version: entry.version, changes: entry.changes, ...(entry.cause ? { cause: entry.cause } : {}) },
});

export const releaseEventOf = (event: ReleaseSource): WebhookEvent => ({
  id: `evt_r${event.id}`,
  type: event.type,
  occurredAt: event.at.toISOString(),
  flagKey: event.flagKey,
  environment: event.environment,
  actor: event.actor,
  summary: releaseSummary(event),
  data: {
    scheduleId: event.scheduleId,
    releasePlanId: event.releasePlanId,
    milestone: event.milestone,
    detail: event.detail,
    ...event.data,
  },
});

export const testEventOf = (webhook: Webhook, by: Actor, at: Date, id: string): WebhookEvent => ({
  id,
  type: 'webhook.test',
  occurredAt: at.toISOString(),
  flagKey: null,
  environment: null,
  actor: by,
  summary: `Test event for webhook “${webhook.name}”, sent by ${by.email}`,
  data: {},
});

/** The body a subscription receives: the event itself, or what a Slack incoming webhook takes. */
export function payloadOf(format: WebhookFormat, event: WebhookEvent): unknown {
  if (format === 'json') return event;
  // Slack reads &, < and > as its markup's; escaped, a flag's key or a reason reads as written.
  const text = `ToggleMaster: ${event.summary}`.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return { text };
}
