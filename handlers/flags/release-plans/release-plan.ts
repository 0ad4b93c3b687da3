import type { Static } from 'typebox';
import type { Serve } from '../../../shared/contracts/flag-model.ts';
import type { GuardrailCheckSchema, SampleRatioCheckSchema } from '../../../shared/contracts/flags-api.ts';
import {
  Guardrail,
  Milestone,
  ReleasePlanSchema,
  ReleasePlanTemplateSchema,
  releasePlanStatuses,
} from '../../../shared/contracts/flags-api.ts';

// The answers' schemas are the console's too: they live with the flags API's other answers.
export { Guardrail, Milestone, ReleasePlanSchema, ReleasePlanTemplateSchema, releasePlanStatuses };

export type Milestone = Static<typeof Milestone>;
export type Guardrail = Static<typeof Guardrail>;
/** A guardrail's last look: its figures, as stored and answered (times as ISO text). */
export type GuardrailCheck = Static<typeof GuardrailCheckSchema>;
export type SampleRatioCheck = Static<typeof SampleRatioCheckSchema>;

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
  /** Metrics the treatment must not make worse than control: a breach rolls the plan back (guardrail-evaluator.ts). */
  guardrails: Guardrail[];
  /** Each guardrail's last look, in the order of `guardrails` (empty before the first). */
  guardrailChecks: GuardrailCheck[];
  /** Whether the split served matched the current milestone's weights, at the last look. */
  sampleRatio: SampleRatioCheck | null;
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
  /** Who approved it: the step that waited is their change. */
  approvedBy: { userId: string; email: string } | null;
  /** What the plan serves now (null for plans from before this was kept: their milestone's or start serve). */
  serving: Serve | null;
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

/** Milestones saved under a name, to start plans from. */
export interface ReleasePlanTemplate {
  id: string;
  name: string;
  milestones: Milestone[];
  createdBy: { userId: string; email: string };
  createdAt: Date;
}

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

/**
 * A running plan stopped where it is (`outcome` says why): nothing more is applied until a person resumes it, and
 * its current milestone then holds for the time it had left.
 */
export const pausedPlan = (plan: ReleasePlan, at: Date, outcome: string): ReleasePlan => ({
  ...plan,
  status: 'paused',
  nextAt: null,
  pausedRemainingMs: plan.nextAt ? Math.max(0, plan.nextAt.getTime() - at.getTime()) : null,
  outcome,
  updatedAt: at,
  version: plan.version + 1,
});
