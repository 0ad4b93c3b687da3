import type { Static } from 'typebox';
import type { releaseEventTypes } from '../../shared/contracts/flags-api.ts';
import { ReleaseEventSchema } from '../../shared/contracts/flags-api.ts';
import type { ReleasePlan } from './release-plans/release-plan.ts';

export { ReleaseEventSchema };

export type ReleaseEventType = (typeof releaseEventTypes)[number];
type Actor = { userId: string; email: string };

/** An event of the release automation, as recorded with the change that made it (same transaction). */
export interface NewReleaseEvent {
  type: ReleaseEventType;
  flagKey: string;
  environment: string;
  scheduleId: string | null;
  releasePlanId: string | null;
  milestone: number | null;
  actor: Actor | null;
  detail: string | null;
  /** The figures that decided (a guardrail's check, a split's), when the automation decided. */
  data: Pick<Static<typeof ReleaseEventSchema>, 'guardrail' | 'sampleRatio' | 'changeRequestId'> | null;
  at: Date;
}

export interface ReleaseEvent extends NewReleaseEvent {
  id: number;
}

export const releaseEventView = (e: ReleaseEvent): Static<typeof ReleaseEventSchema> => ({
  id: e.id,
  type: e.type,
  flagKey: e.flagKey,
  environment: e.environment,
  scheduleId: e.scheduleId,
  releasePlanId: e.releasePlanId,
  milestone: e.milestone,
  actor: e.actor,
  detail: e.detail,
  ...e.data,
  at: e.at.toISOString(),
});

/**
 * The event a plan's write stands for, read from what changed between its state before and after (null: nothing an
 * observer needs to hear about). `actor` did it; null when the release worker decided on its own.
 */
export function planEventOf(
  before: ReleasePlan | null,
  after: ReleasePlan,
  actor: Actor | null,
  at: Date,
  data: NewReleaseEvent['data'] = null,
): NewReleaseEvent | null {
  const event = (type: ReleaseEventType, milestone: number | null = null): NewReleaseEvent => ({
    type,
    flagKey: after.flagKey,
    environment: after.environment,
    scheduleId: null,
    releasePlanId: after.id,
    milestone,
    actor,
    detail: after.outcome,
    data,
    at,
  });
  if (!before) return event('plan.started');
  if (after.status === 'rolled-back' && before.status !== 'rolled-back') return event('plan.rolled-back', after.step);
  if (after.status === 'completed' && before.status !== 'completed') return event('plan.completed', after.step);
  if (after.status === 'paused' && before.status !== 'paused') return event('plan.paused', after.step);
  if (after.status === 'active' && before.status === 'paused') return event('plan.resumed', after.step);
  if (after.step > before.step) return event('plan.milestone', after.step);
  if (after.approvedStep !== null && after.approvedStep !== before.approvedStep) return event('plan.approved', after.approvedStep);
  if (after.awaitingApproval && !before.awaitingApproval) return event('plan.awaiting-approval', after.step + 1);
  return null;
}

/** A schedule's event: it ran, conflicted, failed or was cancelled (`actor` did it; null: the release worker). */
export const scheduleEventOf = (
  schedule: { id: string; flagKey: string; environment: string },
  status: 'applied' | 'conflicted' | 'failed' | 'cancelled',
  outcome: string | null,
  actor: Actor | null,
  at: Date,
): NewReleaseEvent => ({
  type: `schedule.${status}`,
  flagKey: schedule.flagKey,
  environment: schedule.environment,
  scheduleId: schedule.id,
  releasePlanId: null,
  milestone: null,
  actor,
  detail: outcome,
  data: null,
  at,
});
