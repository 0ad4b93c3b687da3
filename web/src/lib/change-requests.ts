import type { ChangeProposal } from '../api/endpoints.ts';
import type { ChangeRequest, ChangeRequestKind, ChangeRequestStatus, Environment, EnvironmentState, Role } from '../api/types.ts';
import { guardrailMetrics } from './guardrails.ts';
import { describeMilestones } from './release-plans.ts';
import { describeRulesChange, rulesOfRequest } from './rules-draft.ts';
import { describeChange } from './schedules.ts';

/**
 * Change requests in the console: whether a form changes an environment or proposes the change (a protected
 * environment takes changes only through requests others approve), what the signed-in person may do with a request,
 * and a request in words.
 */

/** The problem code of a direct change refused because the environment is protected. */
export const changeRequestRequired = 'CHANGE_REQUEST_REQUIRED';

/** Whether a failed call was a direct change refused because the environment is protected (409 CHANGE_REQUEST_REQUIRED). */
export function isChangeRequestRequired(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { status?: unknown }).status === 409 &&
    (error as { code?: unknown }).code === changeRequestRequired
  );
}

/** How a form's change reaches an environment: made now, or proposed as a change request needing approvals. */
export type Submission =
  | { mode: 'direct' }
  | {
      mode: 'propose';
      /** Approvals it will need (other people than its author); undefined when not known yet. */
      requiredApprovals: number | undefined;
      /** `protected`: known before anything was sent; `refused`: a direct change was refused (protected meanwhile). */
      because: 'protected' | 'refused';
    };

/** "…it applies once 2 other people approve it" → 2: what the service's refusal says the request will need. */
function approvalsInRefusal(error: unknown): number | undefined {
  const detail = (error as { detail?: unknown } | null)?.detail;
  const found = typeof detail === 'string' ? /once (\d+) other/.exec(detail) : null;
  return found ? Number(found[1]) : undefined;
}

/**
 * The propose-or-change decision for a form of `environment`: propose when it is known to be protected (so that
 * nobody meets the 409 first), or when a direct change was just refused with CHANGE_REQUEST_REQUIRED (it became
 * protected since the page loaded); change directly otherwise. Environments not known yet count as unprotected: the
 * service refuses a direct change there, and the refusal turns the form into a proposal.
 */
export function submissionFor(environments: readonly Environment[] | undefined, environment: string, refusal?: unknown): Submission {
  const known = environments?.find((e) => e.key === environment);
  if (known?.protected) return { mode: 'propose', requiredApprovals: known.requiredApprovals, because: 'protected' };
  if (isChangeRequestRequired(refusal)) return { mode: 'propose', requiredApprovals: approvalsInRefusal(refusal), because: 'refused' };
  return { mode: 'direct' };
}

/** "1 approval", "2 approvals". */
export function approvalsPhrase(n: number): string {
  return `${n} approval${n === 1 ? '' : 's'}`;
}

/** Why a form proposes, and what its request needs: ["production is protected", "2 approvals by other people"]. */
function proposing(submission: Extract<Submission, { mode: 'propose' }>, environment: string): [why: string, needs: string] {
  const needs =
    submission.requiredApprovals === undefined ? 'approvals' : `${approvalsPhrase(submission.requiredApprovals)} by other people`;
  const why =
    submission.because === 'refused' ? `${environment} became protected since this page was loaded` : `${environment} is protected`;
  return [why, needs];
}

/**
 * What a proposing form says it does: "production is protected: this opens a change request, which needs 2 approvals
 * by other people before it can be applied."
 */
export function proposalNote(submission: Submission, environment: string): string | undefined {
  if (submission.mode === 'direct') return undefined;
  const [why, needs] = proposing(submission, environment);
  return `${why}: this opens a change request, which needs ${needs} before it can be applied.`;
}

/**
 * What the targeting page says over the rules of a protected environment: that edits are collected in a draft of the
 * whole list and proposed together, what the request will need, and that nothing changes before.
 */
export function draftNote(submission: Submission, environment: string): string | undefined {
  if (submission.mode === 'direct') return undefined;
  const [why, needs] = proposing(submission, environment);
  return `${why}: rule changes are collected in a draft of the whole list and proposed together as a change request, which needs ${needs} before it can be applied. Nothing changes in ${environment} until then.`;
}

/** The body of a change request: the proposal, with the description when one was typed. */
export function withDescription<P extends ChangeProposal>(proposal: P, description: string): P {
  const text = description.trim();
  const { description: _ignored, ...rest } = proposal;
  return (text ? { ...rest, description: text } : rest) as P;
}

/** Waiting: open for approvals, or approved and not applied yet. */
export function isWaiting(request: Pick<ChangeRequest, 'status'>): boolean {
  return request.status === 'open' || request.status === 'approved';
}

/** Approvals still missing before it may be applied (0 once approved). */
export function missingApprovals(request: Pick<ChangeRequest, 'approvals' | 'requiredApprovals'>): number {
  return Math.max(0, request.requiredApprovals - request.approvals.length);
}

/** "Change request opened — needs 2 approvals": what a form says once it proposed. */
export function openedMessage(request: Pick<ChangeRequest, 'approvals' | 'requiredApprovals' | 'status'>): string {
  const missing = missingApprovals(request);
  return missing === 0 || request.status === 'approved'
    ? 'Change request opened — approved already'
    : `Change request opened — needs ${approvalsPhrase(missing)}`;
}

/** "1/2": approvals so far of those needed. */
export function approvalCount(request: Pick<ChangeRequest, 'approvals' | 'requiredApprovals'>): string {
  return `${request.approvals.length}/${request.requiredApprovals}`;
}

const kindNames: Record<string, string> = {
  change: 'Change',
  schedule: 'Scheduled change',
  'release-plan': 'Release plan',
  rules: 'Rules',
};

/** "Change", "Scheduled change", "Release plan", "Rules" (a kind the console does not know yet: its name as the service says it). */
export function kindLabel(kind: ChangeRequestKind): string {
  return kindNames[kind] ?? kind;
}
export const statusLabels: Record<ChangeRequestStatus, string> = {
  open: 'Waiting for approval',
  approved: 'Approved: ready to apply',
  applied: 'Applied',
  rejected: 'Rejected',
  conflicted: 'Not applied: conflict',
  failed: 'Failed',
  cancelled: 'Withdrawn',
};

export const statusTones: Record<ChangeRequestStatus, 'neutral' | 'on' | 'off' | 'warn' | 'info'> = {
  open: 'warn',
  approved: 'info',
  applied: 'on',
  rejected: 'off',
  conflicted: 'warn',
  failed: 'off',
  cancelled: 'neutral',
};

/** Who is looking at a request: the signed-in person's id (the token's `sub`) and role. */
export interface Reviewer {
  sub: string;
  role: Role;
}

/** What a person may do with a request now; the service enforces the same (this keeps buttons that can only fail away). */
export interface RequestActions {
  approve: boolean;
  reject: boolean;
  apply: boolean;
  /** Cancel it: its author, or an admin. */
  withdraw: boolean;
  comment: boolean;
}

const none: RequestActions = { approve: false, reject: false, apply: false, withdraw: false, comment: false };

/**
 * The actions that make sense for `me`: reviewing needs the editor role; nobody approves or rejects their own request
 * (its author withdraws it instead), nor approves twice; approving is over once it has its approvals; applying waits
 * for them (anyone with the editor role applies, its author included); withdrawing is its author's, or an admin's.
 * A closed request takes comments only.
 */
export function actionsFor(request: Pick<ChangeRequest, 'status' | 'author' | 'approvals'>, me: Reviewer): RequestActions {
  if (me.role === 'viewer') return none;
  const mine = request.author.userId === me.sub;
  if (!isWaiting(request)) return { ...none, comment: true };
  return {
    approve: request.status === 'open' && !mine && !request.approvals.some((a) => a.userId === me.sub),
    reject: !mine,
    apply: request.status === 'approved',
    withdraw: mine || me.role === 'admin',
    comment: true,
  };
}

/** Why `me` cannot approve a waiting request, in a sentence, or undefined when they can (or it is not waiting). */
export function reviewNote(
  request: Pick<ChangeRequest, 'status' | 'author' | 'approvals' | 'requiredApprovals'>,
  me: Reviewer,
): string | undefined {
  if (!isWaiting(request)) return undefined;
  const missing = missingApprovals(request);
  const still =
    missing > 0 ? ` It needs ${missing} more approval${missing === 1 ? '' : 's'} before it can be applied.` : ' It can be applied now.';
  if (me.role === 'viewer') return `Your role is viewer: reviewing change requests needs the editor or admin role.${still}`;
  if (request.status === 'approved') return undefined;
  if (request.author.userId === me.sub) return `You opened this request: other people approve it.${still}`;
  if (request.approvals.some((a) => a.userId === me.sub)) return `You approved it.${still}`;
  return undefined;
}

/**
 * What a request proposes, in words (without its environment): "Turn it on", "On 12 Mar 2025, 14:30: turn it off",
 * "Start a release: …", "Change the rules: 1 added (3 rules)".
 */
export function describeRequest(
  request: Pick<ChangeRequest, 'kind' | 'change' | 'schedule' | 'releasePlan'> & Partial<Pick<ChangeRequest, 'rules' | 'diff'>>,
  options: { variantLabel?: (key: string) => string; when?: (iso: string) => string } = {},
): string {
  const variantLabel = options.variantLabel ?? ((key: string) => key);
  const when = options.when ?? ((iso: string) => iso);
  if (request.kind === 'schedule' && request.schedule) {
    const what = describeChange(request.schedule.change, variantLabel);
    return `On ${when(request.schedule.runAt)}: ${what[0]!.toLowerCase()}${what.slice(1)}`;
  }
  if (request.kind === 'release-plan' && request.releasePlan) {
    const plan = request.releasePlan;
    const steps = plan.milestones ? `: ${describeMilestones(plan.milestones, variantLabel)}` : ' from a saved template';
    const guarded = plan.guardrails?.length ? `, guarded by ${guardrailMetrics(plan.guardrails).join(', ')}` : '';
    return `Start a release${steps}${guarded}`;
  }
  if (request.kind === 'rules' && request.rules) {
    const { before, after } = rulesOfRequest({ rules: request.rules, diff: request.diff ?? [] });
    return describeRulesChange(before, after);
  }
  return request.change ? describeChange(request.change, variantLabel) : kindLabel(request.kind);
}

/** The list with `request` in it (replacing the one with its id), newest first. */
export function withRequest(requests: readonly ChangeRequest[], request: ChangeRequest): ChangeRequest[] {
  return [...requests.filter((r) => r.id !== request.id), request].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/** The waiting requests of one environment (every one's without it), newest first. */
export function waitingOf(requests: readonly ChangeRequest[], environment?: string): ChangeRequest[] {
  return requests.filter((r) => isWaiting(r) && (environment === undefined || r.environment === environment));
}

/** Whether a fresh answer shows a request applied since the last one: the flag (or its schedules and plans) changed. */
export function appliedSince(before: readonly ChangeRequest[] | undefined, after: readonly ChangeRequest[]): boolean {
  if (!before) return false;
  const was = new Map(before.map((r) => [r.id, r.status]));
  return after.some((r) => r.status === 'applied' && was.has(r.id) && was.get(r.id) !== 'applied');
}

/** The value at a JSON pointer ("/defaultServe/variant"), undefined when a step is missing. */
function at(document: unknown, pointer: string): unknown {
  let value = document;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * The fields of the environment's state a waiting request changes that moved since it was planned (its diff's
 * `before` is no longer what the environment has), first level only ("enabled", "defaultServe"): applying it now
 * would be refused as a conflict. A release plan's request has no diff: nothing to say.
 */
export function movedSince(request: Pick<ChangeRequest, 'diff'>, current: EnvironmentState | undefined): string[] {
  if (!current) return [];
  const moved = request.diff
    .filter((change) => change.path !== '/' && JSON.stringify(at(current, change.path) ?? null) !== JSON.stringify(change.before ?? null))
    .map((change) => change.path.split('/')[1]!);
  return [...new Set(moved)];
}

/** The count the navigation shows beside "Change requests": nothing for none, "100+" when a full page came back. */
export function waitingBadge(count: number, pageSize: number): string | undefined {
  if (count <= 0) return undefined;
  return count >= pageSize ? `${pageSize}+` : String(count);
}
