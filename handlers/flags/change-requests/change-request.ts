import type { Static } from 'typebox';
import type { Change } from '../../../shared/audit/diff.ts';
import type { EnvironmentPatch, EnvironmentState } from '../../../shared/contracts/flag-model.ts';
import type { RuleSpec } from '../../../shared/contracts/targeting-model.ts';
import type { ChangeRequestSchema, ReleasePlanStartSchema, changeRequestStatuses } from '../../../shared/contracts/flags-api.ts';

type Actor = { userId: string; email: string };
type Review = Actor & { at: Date };

export type ChangeRequestStatus = (typeof changeRequestStatuses)[number];
export type ChangeRequestKind = 'change' | 'schedule' | 'release-plan' | 'rules';
export type ReleasePlanStart = Static<typeof ReleasePlanStartSchema>;

/** A change to an environment waiting for approvals (see ChangeRequestSchema), with real dates. */
export interface ChangeRequest {
  id: string;
  flagKey: string;
  /** The flag's project (who may review it are that project's editors and admins). */
  project: string;
  environment: string;
  kind: ChangeRequestKind;
  description: string | null;
  change: EnvironmentPatch | null;
  schedule: { runAt: Date; change: EnvironmentPatch } | null;
  releasePlan: ReleasePlanStart | null;
  /** The flag's rules in the environment as they will be (kind `rules`). */
  rules: RuleSpec[] | null;
  /** The rules as they were when it was opened (kind `rules`): applying it is refused if they moved since. */
  plannedRules: RuleSpec[] | null;
  plannedVersion: number;
  /** The environment's state when it was opened: applying it is refused if a field it sets moved since. */
  plannedState: EnvironmentState;
  diff: Change[];
  status: ChangeRequestStatus;
  requiredApprovals: number;
  approvals: Review[];
  rejection: (Review & { comment: string }) | null;
  comments: { id: number; author: Actor; body: string; at: Date }[];
  author: Actor;
  appliedBy: Actor | null;
  outcome: string | null;
  result: { scheduleId?: string; releasePlanId?: string; flagVersion?: number };
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  version: number;
}

/** Still waiting: open for approvals, or approved and not applied yet. */
export const isWaiting = (request: ChangeRequest) => request.status === 'open' || request.status === 'approved';

export const changeRequestView = (r: ChangeRequest): Static<typeof ChangeRequestSchema> => ({
  ...r,
  schedule: r.schedule && { runAt: r.schedule.runAt.toISOString(), change: r.schedule.change },
  approvals: r.approvals.map((a) => ({ ...a, at: a.at.toISOString() })),
  rejection: r.rejection && { ...r.rejection, at: r.rejection.at.toISOString() },
  comments: r.comments.map((c) => ({ ...c, at: c.at.toISOString() })),
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
  closedAt: r.closedAt?.toISOString() ?? null,
});
