import type { EnvironmentState, Milestone, ReleasePlan, ReleasePlanStatus, ReleasePlanTemplate, Serve } from '../api/types.ts';
import { describeServe } from './format.ts';

/**
 * Release plans in words: hold times typed in a unit and shown short ("4 h", "1 h 30 min"), what each milestone
 * serves, where a running plan is, and how a finished one ended.
 */

/** A flag, as far as its variants' keys go. */
type WithVariants = { variants: readonly { key: string }[] };

/** The API's bounds of a milestone's hold: a second to 30 days. */
export const minHoldSeconds = 1;
export const maxHoldSeconds = 30 * 86_400;
/** The API takes at most this many milestones in a plan. */
export const maxMilestones = 20;

export const holdUnits = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 } as const;
export type HoldUnit = keyof typeof holdUnits;

/** A hold as typed: an amount and its unit ("4" hours). */
export interface HoldInput {
  amount: string;
  unit: HoldUnit;
}

/** The seconds a typed hold stands for, or why it cannot be sent. */
export function holdSecondsOf(input: HoldInput): { seconds: number } | { error: string } {
  const text = input.amount.trim().replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(text)) return { error: 'A number, like 30 or 1.5' };
  const exact = Number(text) * holdUnits[input.unit];
  const seconds = Math.round(exact);
  if (Math.abs(exact - seconds) > 1e-6) return { error: 'A whole number of seconds' };
  if (seconds < minHoldSeconds) return { error: 'At least a second' };
  if (seconds > maxHoldSeconds) return { error: 'At most 30 days' };
  return { seconds };
}

/** A hold in seconds as the largest unit it is a whole number of: 5400 → 90 minutes, 7200 → 2 hours. */
export function holdInputOf(seconds: number): HoldInput {
  for (const unit of ['days', 'hours', 'minutes'] as const)
    if (seconds >= holdUnits[unit] && seconds % holdUnits[unit] === 0) return { amount: String(seconds / holdUnits[unit]), unit };
  return { amount: String(seconds), unit: 'seconds' };
}

/** "45 s", "10 min", "1 h 30 min", "2 d", "1 d 6 h": the two largest parts. */
export function formatHold(seconds: number): string {
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(seconds));
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['min', 60],
    ['s', 1],
  ] as const) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count} ${unit}`);
  }
  return parts.length === 0 ? '0 s' : parts.slice(0, 2).join(' ');
}

/** "“on”" for one variant (everyone gets it), "10% on · 90% off" for a split. */
export function serveInWords(serve: Serve, variantLabel: (key: string) => string = (key) => key): string {
  return serve.variant !== undefined ? `“${variantLabel(serve.variant)}”` : describeServe(serve);
}

/** The variant a plan releases: what its last milestone serves alone, when it does. */
function releasedVariant(milestones: readonly Milestone[]): string | undefined {
  return milestones.at(-1)?.serve.variant;
}

/** The share of users a milestone gives `variant`, in percent (undefined when it is not part of the serve). */
function shareOf(serve: Serve, variant: string): number | undefined {
  if (serve.variant !== undefined) return serve.variant === variant ? 100 : 0;
  return serve.rollout?.find((s) => s.variant === variant)?.weight ?? 0;
}

/**
 * The milestones in one line: "“on” 1% → 10% → 50% → 100%" when they ramp one variant up (the last serves it
 * alone), otherwise each serve in turn ("“a” → 50% a · 50% b").
 */
export function describeMilestones(milestones: readonly Milestone[], variantLabel: (key: string) => string = (key) => key): string {
  const variant = releasedVariant(milestones);
  if (variant !== undefined) return `“${variantLabel(variant)}” ${milestones.map((m) => `${shareOf(m.serve, variant) ?? 0}%`).join(' → ')}`;
  return milestones.map((m) => serveInWords(m.serve, variantLabel)).join(' → ');
}

/** The milestones with their holds, in one line: "1% for 1 h → 10% for 4 h → …" (as describeMilestones, with times). */
export function describeMilestonesWithHolds(
  milestones: readonly Milestone[],
  variantLabel: (key: string) => string = (key) => key,
): string {
  const variant = releasedVariant(milestones);
  const what = (m: Milestone) => (variant !== undefined ? `${shareOf(m.serve, variant) ?? 0}%` : serveInWords(m.serve, variantLabel));
  const steps = milestones.map((m) => `${m.approval ? 'approval, then ' : ''}${what(m)} for ${formatHold(m.holdSeconds)}`);
  return `${variant !== undefined ? `“${variantLabel(variant)}” ` : ''}${steps.join(' → ')}`;
}

/** Which variant a ramp releases and which one the others keep getting, for an environment as it is. */
export function rampVariants(
  flag: WithVariants,
  state: Pick<EnvironmentState, 'defaultServe' | 'offVariant'>,
): {
  release: string;
  rest: string | undefined;
} {
  const keys = flag.variants.map((v) => v.key);
  const current = state.defaultServe.variant;
  const release = keys.includes('on') && current !== 'on' ? 'on' : (keys.find((k) => k !== current) ?? keys[0] ?? '');
  const rest =
    current !== undefined && current !== release && keys.includes(current)
      ? current
      : state.offVariant !== release && keys.includes(state.offVariant)
        ? state.offVariant
        : keys.find((k) => k !== release);
  return { release, rest };
}

/** The shares of the preset "1 % → 10 % → 50 % → 100 %", and how long each holds. */
export const presetSteps: readonly { percent: number; holdSeconds: number }[] = [
  { percent: 1, holdSeconds: 3600 },
  { percent: 10, holdSeconds: 4 * 3600 },
  { percent: 50, holdSeconds: 8 * 3600 },
  { percent: 100, holdSeconds: 3600 },
];

/** The preset 1 % → 10 % → 50 % → 100 % of `release` against `rest` (the last milestone serves `release` alone). */
export function presetMilestones(release: string, rest: string | undefined): Milestone[] {
  return presetSteps.map(({ percent, holdSeconds }) => ({
    serve:
      percent === 100 || rest === undefined
        ? { variant: release }
        : {
            rollout: [
              { variant: release, weight: percent },
              { variant: rest, weight: 100 - percent },
            ],
          },
    holdSeconds,
  }));
}

/** The variants a template's milestones name that the flag does not have (such a plan would be refused). */
export function missingVariants(milestones: readonly Milestone[], flag: WithVariants): string[] {
  const keys = new Set(flag.variants.map((v) => v.key));
  const named = milestones.flatMap((m) =>
    m.serve.variant !== undefined ? [m.serve.variant] : (m.serve.rollout ?? []).map((s) => s.variant),
  );
  return [...new Set(named.filter((k) => !keys.has(k)))];
}

/** Templates whose milestones the flag can serve first, then the others, each by name. */
export function templatesFor(templates: readonly ReleasePlanTemplate[], flag: WithVariants) {
  return [...templates]
    .map((template) => ({ template, missing: missingVariants(template.milestones, flag) }))
    .sort((a, b) => Number(a.missing.length > 0) - Number(b.missing.length > 0) || a.template.name.localeCompare(b.template.name));
}

export const planStatusLabels: Record<ReleasePlanStatus, string> = {
  active: 'Running',
  paused: 'Paused',
  completed: 'Completed',
  'rolled-back': 'Rolled back',
};

export const planStatusTones: Record<ReleasePlanStatus, 'neutral' | 'on' | 'off' | 'warn' | 'info'> = {
  active: 'info',
  paused: 'warn',
  completed: 'on',
  'rolled-back': 'off',
};

export const isRunning = (plan: Pick<ReleasePlan, 'status'>): boolean => plan.status === 'active' || plan.status === 'paused';

/** The plan running on an environment (one at most), if any. */
export function runningPlanOf(plans: readonly ReleasePlan[], environment: string): ReleasePlan | undefined {
  return plans.find((p) => p.environment === environment && isRunning(p));
}

/** An environment's finished plans, the last to end first. */
export function finishedPlansOf(plans: readonly ReleasePlan[], environment: string): ReleasePlan[] {
  return plans.filter((p) => p.environment === environment && !isRunning(p)).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
}

/** What the environment serves by the plan now: its last milestone applied, or what it served before it. */
export function currentServeOf(plan: ReleasePlan): Serve {
  return plan.step >= 0 ? (plan.milestones[plan.step]?.serve ?? plan.startServe) : plan.startServe;
}

/**
 * Where each milestone is: `done` (applied and held), `current` (applied last, holding), `next` (due at nextAt),
 * `approval` (waiting for someone to approve it), `waiting` (later), `skipped` (never reached: rolled back).
 */
export type MilestoneState = 'done' | 'current' | 'next' | 'approval' | 'waiting' | 'skipped';

export function milestoneStates(plan: ReleasePlan): MilestoneState[] {
  return plan.milestones.map((_, i) => {
    if (plan.status === 'completed') return 'done';
    if (plan.status === 'rolled-back') return i <= plan.step ? 'done' : 'skipped';
    if (i < plan.step) return 'done';
    if (i === plan.step) return 'current';
    if (i === plan.step + 1) return plan.awaitingApproval ? 'approval' : 'next';
    return 'waiting';
  });
}

export const milestoneStateLabels: Record<MilestoneState, string> = {
  done: 'done',
  current: 'now',
  next: 'next',
  approval: 'waiting for approval',
  waiting: 'later',
  skipped: 'not reached',
};

/** "Milestone 2 of 4" as a person counts (the API counts from 0). */
export const milestoneNumber = (index: number, plan: Pick<ReleasePlan, 'milestones'>) => `${index + 1} of ${plan.milestones.length}`;

/**
 * Whether a plan moved the flag between two answers of the list: a plan started (its first milestone applied), a
 * milestone applied, or a rollback (the environment then serves something else, so the flag is to be loaded again).
 */
export function changedTheFlag(before: readonly ReleasePlan[] | undefined, after: readonly ReleasePlan[]): boolean {
  if (!before) return false;
  const previous = new Map(before.map((p) => [p.id, p]));
  return after.some((p) => {
    const was = previous.get(p.id);
    if (!was) return p.step >= 0 || p.status === 'rolled-back';
    return p.step !== was.step || (p.status === 'rolled-back' && was.status !== 'rolled-back');
  });
}

/** The list with `plan` in it (replacing the one with its id), newest first. */
export function withPlan(plans: readonly ReleasePlan[], plan: ReleasePlan): ReleasePlan[] {
  return [...plans.filter((p) => p.id !== plan.id), plan].sort(
    (a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id),
  );
}

/** How a finished plan ended, in a sentence. */
export function describeEnd(plan: ReleasePlan, variantLabel: (key: string) => string = (key) => key): string {
  if (plan.status === 'completed') return `Completed: serves ${serveInWords(currentServeOf(plan), variantLabel)}.`;
  if (plan.status === 'rolled-back') {
    const at = plan.step >= 0 ? ` at milestone ${milestoneNumber(plan.step, plan)}` : '';
    // The service's own words: who rolled it back, or why (e.g. a guardrail's reason).
    const why = plan.outcome ? ` ${sentence(plan.outcome)}` : '';
    return `Rolled back${at}: serves ${serveInWords(plan.startServe, variantLabel)} again.${why}`;
  }
  return plan.outcome ? sentence(plan.outcome) : planStatusLabels[plan.status];
}

/** "paused by ann@example.com" → "Paused by ann@example.com." */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
