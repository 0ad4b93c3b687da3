import type { Page, ReleaseEvent, ReleaseEventType, ReleasePlan, ScheduledChange } from '../api/types.ts';
import { formatMetricValue, formatP, formatShare, sampleRatioRows } from './guardrails.ts';
import { describeMilestones, milestoneNumber, serveInWords } from './release-plans.ts';
import { describeChange } from './schedules.ts';

/**
 * The release automation's events in words, for an environment's timeline ("What happened"): what happened and why
 * in a sentence, who it is credited to, and the pages of GET /flags/{key}/release-events kept as one list.
 */

/** What a sentence can say more when the plan or the schedule an event is about is known (the lists the page has). */
export interface EventContext {
  plan?: ReleasePlan | undefined;
  schedule?: ScheduledChange | undefined;
  variantLabel?: (key: string) => string;
}

const plain = (key: string) => key;
const count = (n: number) => n.toLocaleString('en');

/** "milestone 2 of 4" (the plan known), "milestone 2", or undefined (no milestone: -1 is "before the first"). */
function milestoneOf(index: number | null, plan: ReleasePlan | undefined): string | undefined {
  if (index === null || index < 0) return undefined;
  return plan && index < plan.milestones.length ? `milestone ${milestoneNumber(index, plan)}` : `milestone ${index + 1}`;
}

/** What a milestone serves, short: "25% on" when the plan ramps one variant up, else the serve ("“beta”", "50% a · 50% b"). */
function milestoneServe(plan: ReleasePlan, index: number, variantLabel: (key: string) => string): string | undefined {
  const serve = plan.milestones[index]?.serve;
  if (!serve) return undefined;
  const released = plan.milestones.at(-1)?.serve.variant;
  if (released === undefined) return serveInWords(serve, variantLabel);
  const share =
    serve.variant !== undefined
      ? serve.variant === released
        ? 100
        : 0
      : (serve.rollout?.find((s) => s.variant === released)?.weight ?? 0);
  return `${share}% ${variantLabel(released)}`;
}

/** A guardrail's figures that rolled a plan back: "checkout-error: on 0.051 vs off 0.01 (n = 1,503 / 1,497), p = 0.002". */
function breachInWords(check: NonNullable<ReleaseEvent['guardrail']>, variantLabel: (key: string) => string): string {
  const { treatment, control } = check;
  return (
    `${check.metric}: ${variantLabel(treatment.variant)} ${formatMetricValue(treatment.mean)} vs ` +
    `${variantLabel(control.variant)} ${formatMetricValue(control.mean)} (n = ${count(treatment.count)} / ${count(control.count)}), ` +
    formatP(check.pValue)
  );
}

/** The split that paused a plan: "on 12.5 % for 10 %, off 87.5 % for 90 % (n = 2,000), p < 0.001". */
function mismatchInWords(check: NonNullable<ReleaseEvent['sampleRatio']>, variantLabel: (key: string) => string): string {
  const rows = sampleRatioRows(check);
  const total = rows.reduce((n, r) => n + r.observed, 0);
  const shares = rows.map((r) => `${variantLabel(r.variant)} ${formatShare(r.observedShare)} for ${formatShare(r.expectedShare)}`);
  return `${shares.join(', ')} (n = ${count(total)}), ${formatP(check.pValue)}`;
}

/** The service's words without who did it (said beside) nor a trailing ": paused" (said by the sentence). */
function reasonOf(detail: string | null): string | undefined {
  const text = detail?.trim().replace(/:\s*paused$/i, '');
  if (!text) return undefined;
  // "paused by ann@…", "rolled back by ann@…", "cancelled by ann@…": the person is the event's actor.
  if (/^(paused|rolled back|cancelled) by \S+$/i.test(text)) return undefined;
  return text;
}

const capital = (text: string) => (text ? text[0]!.toUpperCase() + text.slice(1) : text);

/**
 * What an event says, in a sentence without a final full stop: "Milestone 2 of 4 applied — 25% on", "Rolled back by
 * guardrail checkout-error: on 0.051 vs off 0.01 (n = 1,503 / 1,497), p = 0.002", "Scheduled change (turn it on)
 * conflicted: enabled changed after this was planned (on version 3)". The plan's milestones and the schedule's
 * change are said when they are known; the event alone still reads.
 */
export function describeEvent(event: ReleaseEvent, context: EventContext = {}): string {
  const variantLabel = context.variantLabel ?? plain;
  const plan = context.plan && context.plan.id === event.releasePlanId ? context.plan : undefined;
  const schedule = context.schedule && context.schedule.id === event.scheduleId ? context.schedule : undefined;
  const reason = reasonOf(event.detail);
  const why = reason ? `: ${reason}` : '';
  const at = milestoneOf(event.milestone, plan);
  const atMilestone = at ? ` at ${at}` : '';
  // describeChange starts with its own verb ("Turn it on", "Serve …"): lower-cased inside the sentence.
  const change = schedule ? describeChange(schedule.change, variantLabel) : undefined;
  const scheduled = `Scheduled change${change ? ` (${change[0]!.toLowerCase()}${change.slice(1)})` : ''}`;
  switch (event.type) {
    case 'schedule.applied':
      return `${scheduled} applied`;
    case 'schedule.conflicted':
      return `${scheduled} conflicted${why}`;
    case 'schedule.failed':
      return `${scheduled} failed${why}`;
    case 'schedule.cancelled':
      return `${scheduled} cancelled`;
    case 'plan.started':
      return plan ? `Release started: ${describeMilestones(plan.milestones, variantLabel)}` : 'Release started';
    case 'plan.milestone': {
      const serves = plan && event.milestone !== null ? milestoneServe(plan, event.milestone, variantLabel) : undefined;
      return `${capital(at ?? 'a milestone')} applied${serves ? ` — ${serves}` : ''}`;
    }
    case 'plan.awaiting-approval':
      return `${capital(at ?? 'the next milestone')} waits for an approval`;
    case 'plan.approved':
      return `${capital(at ?? 'the next milestone')} approved`;
    case 'plan.paused':
      if (event.sampleRatio) return `Paused${atMilestone}: sample ratio mismatch — ${mismatchInWords(event.sampleRatio, variantLabel)}`;
      return `Paused${atMilestone}${why}`;
    case 'plan.resumed':
      return `Resumed${atMilestone}`;
    case 'plan.completed':
      return plan
        ? `Release completed: serves ${serveInWords(plan.milestones.at(-1)?.serve ?? plan.startServe, variantLabel)}`
        : 'Release completed';
    case 'plan.rolled-back':
      if (event.guardrail) return `Rolled back by guardrail ${breachInWords(event.guardrail, variantLabel)}`;
      if (reason) return `Rolled back${atMilestone}: ${reason}`;
      return `Rolled back${atMilestone}${plan ? `: serves ${serveInWords(plan.startServe, variantLabel)} again` : ''}`;
    case 'change-request.opened':
      return `Change request opened${why}`;
    case 'change-request.approved':
      return `Change request approved${why}`;
    case 'change-request.rejected':
      return `Change request rejected${why}`;
    case 'change-request.applied':
      return `Change request applied${why}`;
  }
}

/**
 * Who an event is credited to: "by ann@example.com", or "by the release worker" when it decided on its own (no
 * actor, or a guardrail's breach or a split's mismatch: the figures decided, whoever started the plan).
 */
export function describeWho(event: Pick<ReleaseEvent, 'actor' | 'guardrail' | 'sampleRatio'>): string {
  return event.actor && !event.guardrail && !event.sampleRatio ? `by ${event.actor.email}` : 'by the release worker';
}

export type EventTone = 'on' | 'off' | 'warn' | 'info' | 'neutral';

/** How an event is marked on the timeline: done (green), gone wrong (red), waiting (amber), moving on (accent), nothing. */
export const eventTones: Record<ReleaseEventType, EventTone> = {
  'schedule.applied': 'on',
  'schedule.conflicted': 'warn',
  'schedule.failed': 'off',
  'schedule.cancelled': 'neutral',
  'plan.started': 'info',
  'plan.milestone': 'info',
  'plan.awaiting-approval': 'warn',
  'plan.approved': 'info',
  'plan.paused': 'warn',
  'plan.resumed': 'info',
  'plan.completed': 'on',
  'plan.rolled-back': 'off',
  'change-request.opened': 'warn',
  'change-request.approved': 'info',
  'change-request.rejected': 'neutral',
  'change-request.applied': 'on',
};

/** An environment's events, newest first (as the API lists them). */
export function eventsOf(events: readonly ReleaseEvent[], environment: string): ReleaseEvent[] {
  return events.filter((e) => e.environment === environment);
}

/**
 * The newest page asked again, put in front of what was loaded: the older pages loaded stay when the new page reaches
 * back to them (events never change), else (more new events than a page: a gap) the list starts again from it.
 */
export function withNewest(loaded: Page<ReleaseEvent> | undefined, newest: Page<ReleaseEvent>): Page<ReleaseEvent> {
  const oldestNew = newest.items.at(-1);
  const newestLoaded = loaded?.items[0];
  if (!loaded || !newestLoaded || !oldestNew || newest.nextCursor === null || oldestNew.id > newestLoaded.id) return newest;
  return { items: [...newest.items, ...loaded.items.filter((e) => e.id < oldestNew.id)], nextCursor: loaded.nextCursor };
}

/** An older page appended (each event once). */
export function withOlder(loaded: Page<ReleaseEvent>, older: Page<ReleaseEvent>): Page<ReleaseEvent> {
  const last = loaded.items.at(-1)?.id ?? Infinity;
  return { items: [...loaded.items, ...older.items.filter((e) => e.id < last)], nextCursor: older.nextCursor };
}

/**
 * What the timeline is asked again on: a change of a plan or a schedule (each write bumps its version: a step, a
 * pause, a run) or of the flag. Undefined until both lists have answered (or failed), so it is first asked after them.
 */
export function eventsRefreshKey(
  plans: { items: readonly Pick<ReleasePlan, 'id' | 'version'>[] | undefined; error: unknown },
  schedules: { items: readonly Pick<ScheduledChange, 'id' | 'version'>[] | undefined; error: unknown },
  flagVersion: number,
): string | undefined {
  const part = (list: typeof plans) =>
    list.items ? list.items.map((i) => `${i.id}:${i.version}`).join(',') : list.error !== undefined ? 'failed' : undefined;
  const [p, s] = [part(plans), part(schedules)];
  return p === undefined || s === undefined ? undefined : `${p}|${s}|${flagVersion}`;
}
