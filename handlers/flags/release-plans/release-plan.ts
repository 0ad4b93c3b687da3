import { Type, type Static } from 'typebox';
import { Serve } from '../../../shared/contracts/flag-model.ts';
import { Timestamp, Uuid } from '../../../shared/http/schemas.ts';

/** One step of a release: what the environment serves by default, and how long before the next step. */
export const Milestone = Type.Object(
  {
    serve: Serve,
    holdSeconds: Type.Integer({ minimum: 1, maximum: 30 * 86_400, description: 'How long this step holds before the next one' }),
    approval: Type.Optional(Type.Boolean({ description: 'Wait for an approval before this step is applied' })),
  },
  { additionalProperties: false },
);
export type Milestone = Static<typeof Milestone>;

export const releasePlanStatuses = ['active', 'paused', 'completed', 'rolled-back'] as const;
export type ReleasePlanStatus = (typeof releasePlanStatuses)[number];

/**
 * A release of a flag's environment in steps (e.g. 1 % → 10 % → 50 % → 100 %): the release worker applies each
 * milestone's serve when the previous one has held its time (or once approved), as an audited change through the
 * same checks as a person's; it can be paused, resumed, or rolled back to the serve it started from. A change to
 * the flag made outside the plan pauses it (it would otherwise overwrite that change).
 */
export interface ReleasePlan {
  id: string;
  flagKey: string;
  environment: string;
  milestones: Milestone[];
  status: ReleasePlanStatus;
  /** The milestone applied last (-1 before the first). */
  step: number;
  /** The default serve before the plan: what a rollback restores. */
  startServe: Serve;
  /** When the next milestone is due (null while paused, waiting for approval, or finished). */
  nextAt: Date | null;
  awaitingApproval: boolean;
  /** The milestone a person approved last (it may then be applied). */
  approvedStep: number | null;
  /** A paused plan's time left on its current milestone. */
  pausedRemainingMs: number | null;
  /** The flag's version after the plan's last change: another version means someone changed it meanwhile. */
  flagVersion: number;
  /** Why it paused or stopped, in words. */
  outcome: string | null;
  createdBy: { userId: string; email: string };
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

export const ReleasePlanSchema = Type.Object(
  {
    id: Uuid,
    flagKey: Type.String(),
    environment: Type.String(),
    milestones: Type.Array(Milestone),
    status: Type.Enum([...releasePlanStatuses]),
    step: Type.Integer(),
    startServe: Serve,
    nextAt: Type.Union([Timestamp, Type.Null()]),
    awaitingApproval: Type.Boolean(),
    approvedStep: Type.Union([Type.Integer(), Type.Null()]),
    pausedRemainingMs: Type.Union([Type.Integer(), Type.Null()]),
    flagVersion: Type.Integer(),
    outcome: Type.Union([Type.String(), Type.Null()]),
    createdBy: Type.Object({ userId: Type.String(), email: Type.String() }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: Type.Integer(),
  },
  { $id: 'ReleasePlan' },
);

/** Milestones saved under a name, to start plans from. */
export interface ReleasePlanTemplate {
  id: string;
  name: string;
  milestones: Milestone[];
  createdBy: { userId: string; email: string };
  createdAt: Date;
}

export const ReleasePlanTemplateSchema = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    milestones: Type.Array(Milestone),
    createdBy: Type.Object({ userId: Type.String(), email: Type.String() }),
    createdAt: Timestamp,
  },
  { $id: 'ReleasePlanTemplate' },
);

export const templateView = (t: ReleasePlanTemplate): Static<typeof ReleasePlanTemplateSchema> => ({
  ...t,
  createdAt: t.createdAt.toISOString(),
});

export const releasePlanView = (p: ReleasePlan): Static<typeof ReleasePlanSchema> => ({
  ...p,
  nextAt: p.nextAt?.toISOString() ?? null,
  createdAt: p.createdAt.toISOString(),
  updatedAt: p.updatedAt.toISOString(),
});
