import { ApiError } from '../api/client.ts';
import type { Page, Webhook, WebhookAttempt, WebhookDelivery, WebhookEventFilter, WebhookEventType } from '../api/types.ts';
import { relativeTime } from './format.ts';
import { relativeToNow } from './schedules.ts';

/**
 * The Webhooks page's logic: which events a subscription names (the form's checkboxes ↔ the API's `events` list),
 * a delivery's state in words, how often the log is asked again, and the log's pages kept as one list.
 */

/** The event types a subscription can name one by one (the test button's event reaches every webhook anyway). */
export type SubscribableEventType = Exclude<WebhookEventType, 'webhook.test'>;
/** Every event of one kind: `flag.*`, `schedule.*`, `plan.*`. */
export type EventGroup = Exclude<WebhookEventFilter, '*' | SubscribableEventType>;

/**
 * Each event type in words, in the contract's order (shared/contracts/webhooks-api.ts, webhookEventTypes): a Record,
 * so a type the contract adds or drops does not compile until it is named here too.
 */
export const eventTypeLabels: Record<SubscribableEventType, string> = {
  'flag.created': 'Flag created',
  'flag.updated': 'Flag definition changed',
  'flag.environment-updated': 'Flag changed in an environment',
  'flag.deleted': 'Flag deleted',
  'flag.archived': 'Flag archived',
  'flag.restored': 'Flag restored',
  'flag.purged': 'Flag purged',
  'schedule.applied': 'Scheduled change applied',
  'schedule.conflicted': 'Scheduled change conflicted',
  'schedule.failed': 'Scheduled change failed',
  'schedule.cancelled': 'Scheduled change cancelled',
  'plan.started': 'Release plan started',
  'plan.milestone': 'Release plan milestone reached',
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

export const subscribableEventTypes = Object.keys(eventTypeLabels) as SubscribableEventType[];

/** The groups, as the form offers them. */
export const eventGroups: Record<EventGroup, { label: string; hint: string }> = {
  'flag.*': { label: 'Flag changes', hint: 'Created, changed (definition or an environment), archived, restored, deleted' },
  'schedule.*': { label: 'Scheduled changes', hint: 'Applied, conflicted, failed or cancelled' },
  'plan.*': { label: 'Release plans', hint: 'Started, milestones, approvals, pauses, completion and rollbacks' },
  'change-request.*': { label: 'Change requests', hint: 'Opened, approved, rejected or applied on a protected environment' },
};

export const eventGroupFilters = Object.keys(eventGroups) as EventGroup[];

/** The group an event type belongs to. */
export function groupOf(type: SubscribableEventType): EventGroup {
  return `${type.slice(0, type.indexOf('.'))}.*` as EventGroup;
}

/** An event type in words ("Release plan rolled back"); the type itself when the console does not know it. */
export function eventLabel(type: string): string {
  if (type === 'webhook.test') return 'Test event';
  return (eventTypeLabels as Record<string, string>)[type] ?? type;
}

/** Whether `filters` takes events of `type` by a wider choice (`*` or its group): its own checkbox is then moot. */
export function coveredByGroup(filters: readonly WebhookEventFilter[], type: SubscribableEventType): boolean {
  return filters.includes('*') || filters.includes(groupOf(type));
}

/** Whether `filters` takes events of `type` at all. */
export function subscribesTo(filters: readonly WebhookEventFilter[], type: SubscribableEventType): boolean {
  return coveredByGroup(filters, type) || filters.includes(type);
}

/** The form's choice with one filter turned on or off (what else was ticked stays: unticking "all" brings it back). */
export function withFilter(filters: readonly WebhookEventFilter[], filter: WebhookEventFilter, on: boolean): WebhookEventFilter[] {
  const rest = filters.filter((f) => f !== filter);
  return on ? [...rest, filter] : rest;
}

/**
 * What is sent for the form's choice: `*` alone when ticked; else the groups ticked and the single types no ticked
 * group covers, each once, in the order the form shows them.
 */
export function normalizeFilters(filters: readonly WebhookEventFilter[]): WebhookEventFilter[] {
  if (filters.includes('*')) return ['*'];
  const groups = eventGroupFilters.filter((g) => filters.includes(g));
  const types = subscribableEventTypes.filter((t) => filters.includes(t) && !groups.includes(groupOf(t)));
  return [...groups, ...types];
}

/** A subscription's events in words, one item each: ["All events"], ["Flag changes", "Release plan rolled back"]. */
export function describeFilters(filters: readonly WebhookEventFilter[]): string[] {
  return normalizeFilters(filters).map((f) =>
    f === '*' ? 'All events' : f in eventGroups ? eventGroups[f as EventGroup].label : eventLabel(f),
  );
}

export const formatLabels: Record<Webhook['format'], string> = { json: 'JSON', slack: 'Slack' };

/** Whether a URL can be a webhook's target as typed (http or https, a host); the service checks where it resolves. */
export function checkUrl(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed) return 'Enter the URL the events are sent to.';
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return 'Enter a full URL, such as https://example.com/hooks/togglemaster.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'The URL must start with https:// (or http://).';
  if (!url.hostname) return 'The URL needs a host.';
  return undefined;
}

/**
 * What the service said about the URL: a target refused (422, its host resolves to an internal address) or a URL
 * the schema refused (400), at `/url` or `body/url`. Undefined for any other failure.
 */
export function urlErrorOf(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const field = error.errors.find((e) => e.path.replace(/^\/?body/, '').replace(/^\/?/, '/') === '/url');
  if (!field) return undefined;
  return error.status === 422 && error.detail ? error.detail : field.message;
}

/** What a form's values change on a webhook: only the fields that differ (PATCH needs at least one). */
export function webhookPatch(
  before: Pick<Webhook, 'name' | 'url' | 'events' | 'format'>,
  after: Pick<Webhook, 'name' | 'url' | 'events' | 'format'>,
): Partial<Pick<Webhook, 'name' | 'url' | 'events' | 'format'>> {
  const patch: Partial<Pick<Webhook, 'name' | 'url' | 'events' | 'format'>> = {};
  if (after.name !== before.name) patch.name = after.name;
  if (after.url !== before.url) patch.url = after.url;
  const [was, is] = [normalizeFilters(before.events), normalizeFilters(after.events)];
  if (was.length !== is.length || was.some((f, i) => f !== is[i])) patch.events = is;
  if (after.format !== before.format) patch.format = after.format;
  return patch;
}

export type Tone = 'neutral' | 'on' | 'off' | 'warn' | 'info';

/** A delivery's badge tone: delivered, given up, being retried (a failed attempt), or waiting for its first try. */
export function deliveryTone(delivery: Pick<WebhookDelivery, 'status' | 'attempts'>): Tone {
  if (delivery.status === 'delivered') return 'on';
  if (delivery.status === 'failed') return 'off';
  return delivery.attempts > 0 ? 'warn' : 'info';
}

/**
 * A receiver's answer to one try: "HTTP 200", "HTTP 503: down" (what it said, as the worker kept it), or why there
 * was none ("The receiver refused the connection").
 */
export function answerOf(attempt: Pick<WebhookAttempt, 'statusCode' | 'error'>): string {
  const { statusCode, error } = attempt;
  if (statusCode === null) return error ?? 'no answer';
  if (!error) return `HTTP ${statusCode}`;
  // The worker says "The receiver answered 503: <the body's start>": the code once.
  const said = `The receiver answered ${statusCode}`;
  return error.startsWith(said) ? `HTTP ${statusCode}${error.slice(said.length)}` : `HTTP ${statusCode}: ${error}`;
}

/** The latest answer a delivery got ("—" before its first try). */
export function lastAnswerOf(delivery: Pick<WebhookDelivery, 'attempts' | 'lastStatusCode' | 'lastError'>): string {
  if (delivery.attempts === 0 && delivery.lastStatusCode === null && delivery.lastError === null) return '—';
  return answerOf({ statusCode: delivery.lastStatusCode, error: delivery.lastError });
}

const tries = (n: number) => `${n} ${n === 1 ? 'attempt' : 'attempts'}`;

/**
 * A delivery's state in a sentence: "Delivered after 1 attempt (HTTP 200)", "Attempt 2 failed (HTTP 503); next try
 * in 40 s", "Waiting to be sent", "Waits while the webhook is paused", "Given up after 12 attempts (HTTP 500)".
 */
export function describeDelivery(
  delivery: Pick<WebhookDelivery, 'status' | 'attempts' | 'lastStatusCode' | 'lastError' | 'nextAttemptAt' | 'closedAt'>,
  options: { now?: number; paused?: boolean } = {},
): string {
  const now = options.now ?? Date.now();
  const answer = lastAnswerOf(delivery);
  switch (delivery.status) {
    case 'delivered':
      return `Delivered after ${tries(delivery.attempts)} (${answer})${delivery.closedAt ? `, ${relativeTime(delivery.closedAt, now)}` : ''}`;
    case 'failed':
      return `Given up after ${tries(delivery.attempts)} (${answer})${delivery.closedAt ? `, ${relativeTime(delivery.closedAt, now)}` : ''}`;
    case 'pending': {
      const failed = delivery.attempts > 0 ? `Attempt ${delivery.attempts} failed (${answer}); ` : '';
      if (options.paused) return `${failed}${failed ? 'waits' : 'Waits'} while the webhook is paused`;
      const next = nextAttemptOf(delivery, now);
      if (failed) return `${failed}${next === 'now' ? 'being tried again' : `next try ${next}`}`;
      return next === 'now' ? 'Being sent' : `Waiting to be sent ${next}`;
    }
  }
}

/** When a pending delivery is tried next: "now" once due, "in 40 s"; "—" for one that is closed. */
export function nextAttemptOf(delivery: Pick<WebhookDelivery, 'status' | 'nextAttemptAt'>, now = Date.now()): string {
  if (delivery.status !== 'pending' || delivery.nextAttemptAt === null) return '—';
  return Date.parse(delivery.nextAttemptAt) <= now ? 'now' : relativeToNow(delivery.nextAttemptAt, now);
}

/** The log is asked every this often while a delivery is due (the worker looks every half second). */
export const duePollMs = 2_000;
/** ... and at most this long apart while one waits for a later try. */
export const waitingPollMs = 30_000;
/** ... and this often when every due delivery is overdue by more than `overdueForMs` (the worker seems busy or stopped). */
export const overduePollMs = 10_000;
const overdueForMs = 60_000;

/**
 * How long until the delivery log is asked again: every 2 s while a delivery is due (a test event's answer shows on
 * its own), by the next try (at most 30 s apart) while deliveries wait for a retry, every 10 s when the due ones are
 * long overdue; undefined (no polling) when nothing is pending or the webhook is paused (its deliveries wait for it).
 */
export function deliveryPollMs(
  deliveries: readonly Pick<WebhookDelivery, 'status' | 'nextAttemptAt'>[],
  options: { now?: number; paused?: boolean } = {},
): number | undefined {
  if (options.paused) return undefined;
  const now = options.now ?? Date.now();
  const times = deliveries
    .filter((d) => d.status === 'pending')
    .map((d) => (d.nextAttemptAt === null ? now : Date.parse(d.nextAttemptAt)))
    .filter((at) => Number.isFinite(at));
  if (times.length === 0) return undefined;
  if (times.some((at) => at <= now && now - at <= overdueForMs)) return duePollMs;
  const upcoming = times.filter((at) => at > now);
  const overdue = upcoming.length < times.length;
  if (upcoming.length === 0) return overduePollMs;
  const wait = Math.min(Math.max(Math.min(...upcoming) - now, duePollMs), waitingPollMs);
  return overdue ? Math.min(wait, overduePollMs) : wait;
}

const idOf = (delivery: Pick<WebhookDelivery, 'id'>) => Number(delivery.id);

/**
 * The log asked again from its newest entry (`fresh`) put in place of what was loaded: its entries replace theirs
 * (a status changes as deliveries are tried), the older entries loaded beyond it stay, with their cursor.
 */
export function withRefreshed(loaded: Page<WebhookDelivery> | undefined, fresh: Page<WebhookDelivery>): Page<WebhookDelivery> {
  const oldestFresh = fresh.items.at(-1);
  if (!loaded || fresh.nextCursor === null || !oldestFresh) return fresh;
  const older = loaded.items.filter((d) => idOf(d) < idOf(oldestFresh));
  return older.length === 0 ? fresh : { items: [...fresh.items, ...older], nextCursor: loaded.nextCursor };
}

/** An older page appended (each delivery once). */
export function withOlder(loaded: Page<WebhookDelivery>, older: Page<WebhookDelivery>): Page<WebhookDelivery> {
  const last = loaded.items.at(-1);
  const before = last ? idOf(last) : Infinity;
  return { items: [...loaded.items, ...older.items.filter((d) => idOf(d) < before)], nextCursor: older.nextCursor };
}

/** How many to ask for when the log is asked again: what is shown (at least a page), at most the API's 200. */
export function refreshLimit(loaded: Page<WebhookDelivery> | undefined, pageSize: number): number {
  return Math.min(Math.max(loaded?.items.length ?? 0, pageSize), 200);
}

/** The signature header a receiver checks, as docs/webhooks.md gives it. */
export const signatureHeader = 'ToggleMaster-Signature';

/** A receiver's check of the signature, in Node: docs/webhooks.md's recipe (shown beside a new secret). */
export const verifySnippet = `import { createHmac, timingSafeEqual } from 'node:crypto';

/** \`header\`: the ${signatureHeader} header; \`rawBody\`: the request body as received, a string. */
export function verifyToggleMasterSignature(secret, header, rawBody, toleranceSeconds = 300) {
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=')));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(\`\${parts.t}.\${rawBody}\`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
`;
