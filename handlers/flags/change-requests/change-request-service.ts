import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { diff } from '../../../shared/audit/diff.ts';
import type { EnvironmentPatch } from '../../../shared/contracts/flag-model.ts';
import { holds, type Principal } from '../../../shared/http/authenticate.ts';
import { AppError } from '../../../shared/http/problem.ts';
import type { FlagService } from '../flag-service.ts';
import type { FlagStore } from '../flag-store.ts';
import type { NewReleaseEvent } from '../release-events.ts';
import type { ReleasePlanService } from '../release-plans/release-plan-service.ts';
import type { EnvironmentSource } from '../environments/environment.ts';
import { movedSincePlanned, type ScheduleService } from '../schedules/schedule-service.ts';
import { isWaiting, type ChangeRequest, type ReleasePlanStart } from './change-request.ts';
import type { RuleSpec } from '../../../shared/contracts/targeting-model.ts';
import type { FlagRulesClient } from '../../../shared/clients/targeting-client.ts';
import type { Credential } from '../../../shared/clients/service-client.ts';

type Actor = { userId: string; email: string };

export interface ChangeRequestInput {
  description?: string | undefined;
  change?: EnvironmentPatch | undefined;
  schedule?: { runAt: string; change: EnvironmentPatch } | undefined;
  releasePlan?: ReleasePlanStart | undefined;
  rules?: RuleSpec[] | undefined;
}

/** A rule as a change request compares and sets it: every field spelled out, so two spellings of one rule are equal. */
const specOf = (rule: RuleSpec): RuleSpec => ({
  name: rule.name ?? '',
  conditions: rule.conditions,
  segments: rule.segments ?? [],
  serve: rule.serve,
});

/** Comments a request holds at most (it is read and written whole). */
const maxComments = 200;
/** Tries of a review against concurrent ones (each re-reads the request). */
const reviewTries = 5;

/**
 * Change requests: on a protected environment a change waits, with its diff and comments, for the environment's
 * number of approvals by people other than its author; then it is applied exactly as planned — through the same
 * service code as a direct change — or refused as a conflict if a field it sets moved since it was opened.
 */
export function createChangeRequestService(deps: {
  store: FlagStore;
  flags: FlagService;
  schedules: ScheduleService;
  releasePlans: ReleasePlanService;
  environments: EnvironmentSource;
  /** Where a flag's rules are (targeting), for change requests of rules. */
  targeting: FlagRulesClient;
  now?: () => Date;
}) {
  const { store, flags } = deps;
  const now = deps.now ?? (() => new Date());
  const actorOf = (p: Actor): Actor => ({ userId: p.userId, email: p.email });

  const eventOf = (
    request: ChangeRequest,
    type: 'change-request.opened' | 'change-request.approved' | 'change-request.rejected' | 'change-request.applied',
    actor: Actor,
    detail: string | null,
  ): NewReleaseEvent => ({
    type,
    flagKey: request.flagKey,
    environment: request.environment,
    scheduleId: request.result.scheduleId ?? null,
    releasePlanId: request.result.releasePlanId ?? null,
    milestone: null,
    actor,
    detail,
    data: { changeRequestId: request.id },
    at: now(),
  });

  async function found(id: string): Promise<ChangeRequest> {
    const request = await store.getChangeRequest(id);
    if (!request) throw new AppError('NOT_FOUND', `No change request ${id}`);
    return request;
  }

  /**
   * The fields of the environment's state a request sets, as planned: its change, its schedule's change, or — for a
   * release plan, which drives the default serve — the default serve it was planned on (moved, it conflicts).
   */
  const fieldsOf = (request: Pick<ChangeRequest, 'change' | 'schedule' | 'plannedState'>): EnvironmentPatch =>
    request.change ?? request.schedule?.change ?? { defaultServe: request.plannedState.defaultServe };

  /** Writes a review (approval, rejection, comment, withdrawal) on the request as it is now, again if another landed first. */
  async function review(
    id: string,
    decide: (request: ChangeRequest) => { next: ChangeRequest; event: NewReleaseEvent | null },
  ): Promise<ChangeRequest> {
    for (let attempt = 1; ; attempt++) {
      const current = await found(id);
      const { next, event } = decide(current);
      const outcome = await store.updateChangeRequest(next, current.version, event);
      if (outcome === 'ok') return next;
      if (outcome === 'not-found') throw new AppError('NOT_FOUND', `No change request ${id}`);
      if (attempt === reviewTries)
        throw new AppError('CONFLICT', 'The change request is being reviewed by others at this moment; try again');
    }
  }

  const assertWaiting = (request: ChangeRequest) => {
    if (!isWaiting(request)) throw new AppError('CONFLICT', `This change request is ${request.status}`);
  };
  const bump = (request: ChangeRequest, changes: Partial<ChangeRequest>): ChangeRequest => ({
    ...request,
    ...changes,
    updatedAt: now(),
    version: request.version + 1,
  });

  /** The flag's rules in one environment, in order, as specs (asked of targeting with the caller's credential). */
  const rulesIn = async (flagKey: string, environment: string, credential: Credential) =>
    (await deps.targeting.listRulesOfFlag(flagKey, credential))
      .filter((rule) => rule.environment === environment)
      .sort((a, b) => a.priority - b.priority)
      .map(specOf);

  /** Closes a request that could not apply (conflicted, failed), saying why; the caller then answers the refusal. */
  async function close(request: ChangeRequest, status: 'conflicted' | 'failed', outcome: string): Promise<void> {
    await store.updateChangeRequest(bump(request, { status, outcome, closedAt: now() }), request.version, null);
  }

  return {
    async open(
      key: string,
      environment: string,
      input: ChangeRequestInput,
      author: Principal,
      credential: Credential,
    ): Promise<ChangeRequest> {
      const kinds = [
        input.change && 'change',
        input.schedule && 'schedule',
        input.releasePlan && 'release-plan',
        input.rules && 'rules',
      ].filter(Boolean);
      if (kinds.length !== 1)
        throw new AppError('VALIDATION_FAILED', 'A change request carries exactly one of change, schedule, releasePlan or rules', {
          errors: [{ path: 'body', message: 'needs exactly one of change, schedule, releasePlan, rules' }],
        });
      await flags.assertEnvironment(environment);
      const settings = (await deps.environments.list()).find((e) => e.key === environment)!;
      const flag = await flags.get(key);
      // Checked now as it will be applied: a request that could never apply is refused at once (400).
      const patch = input.change ?? input.schedule?.change;
      const planned = patch ? await flags.planEnvironmentChange(flag, environment, patch) : flag;
      await deps.releasePlans.checkMilestones(flag, environment, input.releasePlan?.milestones ?? []);
      if (input.schedule && !(Date.parse(input.schedule.runAt) > now().getTime()))
        throw new AppError('VALIDATION_FAILED', 'The scheduled time must be in the future', {
          errors: [{ path: 'body/schedule/runAt', message: 'must be in the future' }],
        });
      // Rules are targeting's: checked by it when the request applies; the diff is against the rules as they are now.
      const plannedRules = input.rules ? await rulesIn(key, environment, credential) : null;
      const rules = input.rules?.map(specOf) ?? null;
      const at = now();
      const request: ChangeRequest = {
        id: randomUUID(),
        flagKey: key,
        project: flag.project,
        environment,
        kind: kinds[0] as ChangeRequest['kind'],
        description: input.description ?? null,
        change: input.change ?? null,
        schedule: input.schedule ? { runAt: new Date(input.schedule.runAt), change: input.schedule.change } : null,
        releasePlan: input.releasePlan ?? null,
        rules,
        plannedRules,
        plannedVersion: flag.version,
        plannedState: flag.environments[environment]!,
        diff: rules ? diff(plannedRules, rules) : diff(flag.environments[environment], planned.environments[environment]),
        status: 'open',
        requiredApprovals: settings.requiredApprovals,
        approvals: [],
        rejection: null,
        comments: [],
        author: actorOf(author),
        appliedBy: null,
        outcome: null,
        result: {},
        createdAt: at,
        updatedAt: at,
        closedAt: null,
        version: 1,
      };
      await store.insertChangeRequest(request, eventOf(request, 'change-request.opened', request.author, request.description));
      return request;
    },

    get: found,
    list: (filter: Parameters<FlagStore['listChangeRequests']>[0]) => store.listChangeRequests(filter),

    /** One approval per person, never the author's; enough of them make the request approved (it still waits to be applied). */
    approve: (id: string, reviewer: Principal, comment: string | undefined) =>
      review(id, (request) => {
        assertWaiting(request);
        if (request.author.userId === reviewer.userId)
          throw new AppError('FORBIDDEN', 'The author of a change request cannot approve it; another person must');
        if (request.approvals.some((a) => a.userId === reviewer.userId))
          throw new AppError('CONFLICT', 'You have already approved this change request');
        const at = now();
        const approvals = [...request.approvals, { ...actorOf(reviewer), at }];
        const comments = comment
          ? [...request.comments, { id: request.comments.length + 1, author: actorOf(reviewer), body: comment, at }]
          : request.comments;
        const status = approvals.length >= request.requiredApprovals ? 'approved' : 'open';
        const next = bump(request, { approvals, comments, status });
        return {
          next,
          event: eventOf(
            next,
            'change-request.approved',
            actorOf(reviewer),
            `approval ${approvals.length} of ${request.requiredApprovals}`,
          ),
        };
      }),

    reject: (id: string, reviewer: Principal, comment: string) =>
      review(id, (request) => {
        assertWaiting(request);
        if (request.author.userId === reviewer.userId)
          throw new AppError('FORBIDDEN', 'The author withdraws a change request (cancel) rather than rejecting it');
        const at = now();
        const next = bump(request, {
          status: 'rejected',
          rejection: { ...actorOf(reviewer), at, comment },
          closedAt: at,
          outcome: comment,
        });
        return { next, event: eventOf(next, 'change-request.rejected', actorOf(reviewer), comment) };
      }),

    /** Its author (or an admin) withdraws it. */
    cancel: (id: string, by: Principal) =>
      review(id, (request) => {
        assertWaiting(request);
        if (request.author.userId !== by.userId && !holds(by, request.project, 'admin'))
          throw new AppError('FORBIDDEN', 'Only its author or an admin of its project can withdraw a change request');
        return { next: bump(request, { status: 'cancelled', closedAt: now(), outcome: `withdrawn by ${by.email}` }), event: null };
      }),

    comment: (id: string, author: Principal, body: string) =>
      review(id, (request) => {
        if (request.comments.length >= maxComments)
          throw new AppError('CONFLICT', `A change request holds at most ${maxComments} comments`);
        const comments = [...request.comments, { id: request.comments.length + 1, author: actorOf(author), body, at: now() }];
        return { next: bump(request, { comments }), event: null };
      }),

    /**
     * Applies an approved request, once: refused while approvals are missing, and closed as conflicted (409) if a
     * field it sets moved since it was opened. A state change is written with the request in one transaction, as
     * its author's change naming the approvers; a schedule or a plan is created as its author's once the request is
     * marked applied, so that it is created at most once.
     */
    async apply(id: string, by: Principal, credential: Credential): Promise<ChangeRequest> {
      const request = await found(id);
      if (request.status === 'open')
        throw new AppError(
          'CONFLICT',
          `This change request has ${request.approvals.length} of the ${request.requiredApprovals} approvals it needs`,
        );
      if (request.status !== 'approved') throw new AppError('CONFLICT', `This change request is ${request.status}`);
      const flag = await flags.get(request.flagKey);
      const rulesMoved =
        request.kind === 'rules' &&
        !isDeepStrictEqual(await rulesIn(request.flagKey, request.environment, credential), request.plannedRules)
          ? 'the rules changed after this was planned'
          : undefined;
      const moved =
        rulesMoved ??
        movedSincePlanned(
          { change: fieldsOf(request), plannedState: request.plannedState, plannedVersion: request.plannedVersion },
          flag.environments[request.environment],
          flag.version,
        );
      if (moved || flag.archivedAt) {
        const why = flag.archivedAt ? 'the flag was archived' : moved!;
        await close(request, 'conflicted', why);
        throw new AppError('CONFLICT', `Not applied: ${why}; open a new change request against the flag as it is now`);
      }
      const at = now();
      const cause = { changeRequestId: request.id, approvedBy: request.approvals.map(actorOf) };
      const author: Principal = { ...request.author, role: 'editor' };
      const applied = bump(request, { status: 'applied', appliedBy: actorOf(by), closedAt: at, outcome: null });

      if (request.kind === 'change') {
        let next;
        try {
          next = await flags.planEnvironmentChange(flag, request.environment, request.change!);
        } catch (error) {
          if (error instanceof AppError && error.status < 500) await close(request, 'failed', error.message);
          throw error;
        }
        const done = { ...applied, result: { flagVersion: next.version } };
        const write = flags.environmentWrite(flag, next, author, request.environment, cause);
        const outcome = await store.applyChangeRequest(
          done,
          request.version,
          next,
          flag.version,
          write,
          eventOf(done, 'change-request.applied', actorOf(by), null),
        );
        if (outcome === 'stale') {
          await close(request, 'conflicted', 'the flag changed while it was being applied');
          throw new AppError('CONFLICT', 'Not applied: the flag changed at the same moment; open a new change request');
        }
        if (outcome === 'request-moved')
          throw new AppError('CONFLICT', 'Someone else applied, withdrew or reviewed this change request at the same moment');
        if (outcome === 'not-found') throw new AppError('NOT_FOUND', `No flag "${request.flagKey}"`);
        return done;
      }

      // Rules, a schedule or a plan: the request is marked applied first (once), then what it approved is made — the
      // rules by targeting, which checks with this service that the request approved exactly them.
      if (request.kind === 'rules') {
        if ((await store.updateChangeRequest(applied, request.version, null)) !== 'ok')
          throw new AppError('CONFLICT', 'Someone else applied, withdrew or reviewed this change request at the same moment');
        try {
          await deps.targeting.setRules(
            { flagKey: request.flagKey, environment: request.environment, rules: request.rules! },
            request.id,
            credential,
          );
        } catch (error) {
          const outcome = error instanceof AppError ? error.message : 'targeting did not set the rules';
          await store.updateChangeRequest(bump(applied, { status: 'failed', appliedBy: null, outcome }), applied.version, null);
          throw error;
        }
        const done = bump(applied, {});
        await store.updateChangeRequest(done, applied.version, eventOf(done, 'change-request.applied', actorOf(by), null));
        return done;
      }
      // A schedule or a plan: the request is marked applied first (once), then what it approved is created.
      if ((await store.updateChangeRequest(applied, request.version, null)) !== 'ok')
        throw new AppError('CONFLICT', 'Someone else applied, withdrew or reviewed this change request at the same moment');
      try {
        const approved = { changeRequestId: request.id };
        const result =
          request.kind === 'schedule'
            ? {
                scheduleId: (
                  await deps.schedules.create(
                    request.flagKey,
                    request.environment,
                    { runAt: request.schedule!.runAt.toISOString(), change: request.schedule!.change },
                    undefined,
                    author,
                    approved,
                  )
                ).id,
              }
            : {
                releasePlanId: (
                  await deps.releasePlans.start(request.flagKey, request.environment, request.releasePlan!, undefined, author, approved)
                ).id,
              };
        const done = bump(applied, { result });
        await store.updateChangeRequest(done, applied.version, eventOf(done, 'change-request.applied', actorOf(by), null));
        return done;
      } catch (error) {
        const outcome = error instanceof AppError ? error.message : 'it could not be created';
        await store.updateChangeRequest(bump(applied, { status: 'failed', appliedBy: null, outcome }), applied.version, null);
        throw error;
      }
    },
  };
}

export type ChangeRequestService = ReturnType<typeof createChangeRequestService>;
