import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { ChangeCause } from '../../../shared/contracts/flags-api.ts';
import type { Principal } from '../../../shared/http/authenticate.ts';
import { assertIfMatch } from '../../../shared/http/if-match.ts';
import { AppError } from '../../../shared/http/problem.ts';
import type { FlagService } from '../flag-service.ts';
import type { Flag, FlagStore } from '../flag-store.ts';
import { describeBreach, describeMismatch, type GuardrailEvaluator } from './guardrail-evaluator.ts';
import { pausedPlan, type Guardrail, type Milestone, type ReleasePlan, type ReleasePlanTemplate } from './release-plan.ts';
import { planEventOf, type NewReleaseEvent } from '../release-events.ts';

type Actor = ReleasePlan['createdBy'];
const actorOf = (principal: Principal): Actor => ({ userId: principal.userId, email: principal.email });

/** What an attempt to move a plan on came to. */
export type AdvanceOutcome = 'advanced' | 'completed' | 'awaiting-approval' | 'paused' | 'not-due' | 'not-running';

/** What a look at a plan's guardrails came to: nothing to do, a rollback (a breach), or a pause (a broken split). */
export type GuardOutcome = 'holding' | 'rolled-back' | 'paused' | 'not-running';

export function createReleasePlanService(deps: { store: FlagStore; flags: FlagService; now?: () => Date }) {
  const { store, flags } = deps;
  const now = deps.now ?? (() => new Date());
  const later = (ms: number) => new Date(now().getTime() + ms);

  async function loadOf(key: string, id: string): Promise<ReleasePlan> {
    const plan = await store.getPlan(id);
    if (!plan || plan.flagKey !== key) throw new AppError('NOT_FOUND', `No release plan ${id} of flag "${key}"`);
    return plan;
  }

  /**
   * Saves a plan-only change (no flag write) with the release event it stands for (`actor` made it; null: the release
   * worker on its own); a plan that moved meanwhile is a conflict.
   */
  async function save(
    next: ReleasePlan,
    current: ReleasePlan,
    actor: Actor | null,
    data: NewReleaseEvent['data'] = null,
  ): Promise<ReleasePlan> {
    const event = planEventOf(current, next, actor, now(), data);
    const outcome = await store.updatePlan({ ...next, updatedAt: now(), version: current.version + 1 }, current.version, event);
    if (outcome !== 'ok') throw new AppError('CONFLICT', 'The release plan moved on meanwhile; reload it');
    return { ...next, updatedAt: now(), version: current.version + 1 };
  }

  /** What the plan last made its environment serve: its current milestone's serve, or the serve it started from. */
  const servedByPlan = (plan: ReleasePlan) => plan.serving ?? (plan.step >= 0 ? plan.milestones[plan.step]!.serve : plan.startServe);

  /**
   * Writes a serve to the flag's environment as the plan's change (same checks and audit as a person's; `actor` made
   * it: the plan's author for a step, the person for a rollback) together with the plan's next state. If the
   * environment no longer serves what the plan last set (someone changed it outside the plan), a step pauses the plan
   * instead of overwriting that change; changes elsewhere in the flag do not matter.
   */
  async function change(
    plan: ReleasePlan,
    serve: Milestone['serve'],
    next: ReleasePlan,
    cause: ChangeCause,
    options: { strict: boolean; actor: ReleasePlan['createdBy']; data?: NewReleaseEvent['data'] },
  ): Promise<'ok' | 'paused'> {
    const flag = await flags.get(plan.flagKey);
    if (flag.archivedAt) {
      // Archiving pauses active plans; one that started at the same moment as the archive stops here.
      if (plan.status === 'active') await save(pausedPlan(plan, now(), 'the flag is archived'), plan, null).catch(ignoreMoved);
      flags.assertActive(flag);
    }
    const serving = flag.environments[plan.environment]?.defaultServe;
    // Compared as values: PostgreSQL's jsonb gives the keys back in an order of its own.
    if (options.strict && !isDeepStrictEqual(serving, servedByPlan(plan))) {
      await save(
        {
          ...plan,
          status: 'paused',
          nextAt: null,
          pausedRemainingMs: 0,
          outcome: `the default serve of ${plan.environment} was changed outside the plan (flag version ${flag.version}): paused`,
        },
        plan,
        null,
      );
      return 'paused';
    }
    const changed = await flags.planEnvironmentChange(flag, plan.environment, { defaultServe: serve });
    const write = flags.environmentWrite(flag, changed, options.actor, plan.environment, cause);
    const written = { ...next, serving: serve, flagVersion: changed.version, updatedAt: now(), version: plan.version + 1 };
    const event = planEventOf(plan, written, options.actor, now(), options.data ?? null);
    const outcome = await store.applyPlanChange(written, plan.version, changed, flag.version, write, event);
    if (outcome === 'ok') return 'ok';
    if (outcome === 'plan-moved') throw new AppError('CONFLICT', 'The release plan moved on meanwhile; reload it');
    throw new AppError('CONFLICT', 'The flag changed at the same moment; try again');
  }

  /** Applies the next milestone if it is due (the release worker; also right after a start, a resume or an approval). */
  async function advance(id: string): Promise<AdvanceOutcome> {
    const plan = await store.getPlan(id);
    if (plan?.status !== 'active') return 'not-running';
    if (plan.awaitingApproval) return 'awaiting-approval';
    if (plan.nextAt === null || plan.nextAt.getTime() > now().getTime() + 50) return 'not-due';
    const step = plan.step + 1;
    if (step >= plan.milestones.length) {
      await save({ ...plan, status: 'completed', nextAt: null, outcome: null }, plan, null).catch(ignoreMoved);
      return 'completed';
    }
    const milestone = plan.milestones[step]!;
    if (milestone.approval && plan.approvedStep !== step) {
      await save({ ...plan, awaitingApproval: true, nextAt: null }, plan, null).catch(ignoreMoved);
      return 'awaiting-approval';
    }
    try {
      const next = { ...plan, step, nextAt: later(milestone.holdSeconds * 1000), outcome: null };
      const cause = { releasePlanId: plan.id, milestone: step };
      // A milestone that waited for an approval is the approver's change; the others are the plan's author's.
      const actor = milestone.approval && plan.approvedBy ? plan.approvedBy : plan.createdBy;
      return (await change(plan, milestone.serve, next, cause, { strict: true, actor })) === 'ok' ? 'advanced' : 'paused';
    } catch (error) {
      // Another worker advanced it first: nothing to do here.
      if (error instanceof AppError && error.code === 'CONFLICT') return 'not-due';
      throw error;
    }
  }

  const ignoreMoved = (error: unknown) => {
    if (!(error instanceof AppError && error.code === 'CONFLICT')) throw error;
  };

  /** Every milestone checked now as it will be applied (unknown variants, weights that do not total 100): 400 naming it. */
  async function checkMilestones(flag: Flag, environment: string, milestones: readonly Milestone[]): Promise<void> {
    for (const [index, milestone] of milestones.entries()) {
      await flags.planEnvironmentChange(flag, environment, { defaultServe: milestone.serve }).catch((error: unknown) => {
        if (error instanceof AppError) throw new AppError(error.code, `Milestone ${index + 1}: ${error.message}`, { errors: error.errors });
        throw error;
      });
    }
  }

  return {
    /**
     * Starts a plan on a flag's environment from the flag's version in If-Match, with its own milestones or those of a
     * saved template; its first milestone is applied at once.
     */
    checkMilestones,

    async start(
      key: string,
      environment: string,
      input: { milestones?: Milestone[] | undefined; templateId?: string | undefined; guardrails?: Guardrail[] | undefined },
      ifMatch: string | undefined,
      actor: Principal,
      /** Set when an approved change request starts it: a protected environment takes it then. */
      approved?: { changeRequestId: string },
    ): Promise<ReleasePlan> {
      await flags.assertEnvironment(environment);
      if (!approved) await flags.assertUnprotected(environment, 'start a release plan');
      if ((input.milestones === undefined) === (input.templateId === undefined)) {
        throw new AppError('VALIDATION_FAILED', 'Send either milestones or a templateId', {
          errors: [{ path: 'body', message: 'needs milestones or templateId, not both' }],
        });
      }
      const template = input.templateId === undefined ? undefined : await store.getTemplate(input.templateId);
      if (input.templateId !== undefined && !template) throw new AppError('NOT_FOUND', `No release plan template ${input.templateId}`);
      const milestones = template?.milestones ?? input.milestones!;
      const flag = await flags.get(key);
      assertIfMatch(flag.version, ifMatch, 'flag');
      await checkMilestones(flag, environment, milestones);
      const guardrails = input.guardrails ?? [];
      const variants = new Set(flag.variants.map((v) => v.key));
      const errors = guardrails.flatMap((g, i) => [
        ...[g.treatment, g.control]
          .filter((variant) => !variants.has(variant))
          .map((variant) => ({ path: `/guardrails/${i}`, message: `"${variant}" is not a variant of "${key}"` })),
        ...(g.treatment === g.control ? [{ path: `/guardrails/${i}`, message: 'treatment and control must be different variants' }] : []),
      ]);
      if (errors.length > 0) throw new AppError('VALIDATION_FAILED', 'A guardrail names variants it cannot compare', { errors });
      const at = now();
      const plan: ReleasePlan = {
        id: randomUUID(),
        flagKey: key,
        environment,
        milestones,
        guardrails,
        guardrailChecks: [],
        sampleRatio: null,
        status: 'active',
        step: -1,
        startServe: flag.environments[environment]!.defaultServe,
        nextAt: at,
        awaitingApproval: false,
        approvedStep: null,
        approvedBy: null,
        serving: flag.environments[environment]!.defaultServe,
        pausedRemainingMs: null,
        flagVersion: flag.version,
        outcome: null,
        createdBy: { userId: actor.userId, email: actor.email },
        createdAt: at,
        updatedAt: at,
        version: 1,
      };
      if (!(await store.insertPlan(plan, planEventOf(null, plan, plan.createdBy, at)!)))
        throw new AppError('CONFLICT', `A release plan is already running on "${key}" in ${environment}`);
      await advance(plan.id);
      return (await store.getPlan(plan.id))!;
    },

    async createTemplate(name: string, milestones: Milestone[], actor: Principal): Promise<ReleasePlanTemplate> {
      const template: ReleasePlanTemplate = {
        id: randomUUID(),
        name,
        milestones,
        createdBy: { userId: actor.userId, email: actor.email },
        createdAt: now(),
      };
      if (!(await store.insertTemplate(template))) throw new AppError('CONFLICT', `A template named "${name}" exists already`);
      return template;
    },
    listTemplates: () => store.listTemplates(),
    async deleteTemplate(id: string) {
      if (!(await store.deleteTemplate(id))) throw new AppError('NOT_FOUND', `No release plan template ${id}`);
    },

    async list(key: string) {
      await flags.get(key);
      return store.listPlans({ flagKey: key, limit: 50 });
    },

    /** The flag's release events (schedules' too), newest first. */
    async events(key: string, page: { limit: number; before?: number | undefined }) {
      await flags.get(key);
      return store.releaseEvents(key, page);
    },

    async pause(key: string, id: string, actor: Principal) {
      const plan = await loadOf(key, id);
      if (plan.status !== 'active') throw new AppError('CONFLICT', `The plan is ${plan.status}, not active`);
      const remaining = plan.nextAt ? Math.max(0, plan.nextAt.getTime() - now().getTime()) : null;
      return save(
        { ...plan, status: 'paused', nextAt: null, pausedRemainingMs: remaining, outcome: `paused by ${actor.email}` },
        plan,
        actorOf(actor),
      );
    },

    /** Resumes a paused plan where it was: its current milestone holds for the time it had left. */
    async resume(key: string, id: string, actor: Principal) {
      const plan = await loadOf(key, id);
      if (plan.status !== 'paused') throw new AppError('CONFLICT', `The plan is ${plan.status}, not paused`);
      const flag = await flags.get(key);
      flags.assertActive(flag);
      // A person resuming takes the environment as it serves now: the plan's next step starts from that.
      const serving = flag.environments[plan.environment]!.defaultServe;
      const resumed = await save(
        {
          ...plan,
          status: 'active',
          nextAt: plan.awaitingApproval ? null : later(plan.pausedRemainingMs ?? 0),
          pausedRemainingMs: null,
          serving,
          flagVersion: flag.version,
          outcome: null,
        },
        plan,
        actorOf(actor),
      );
      await advance(id);
      return (await store.getPlan(id)) ?? resumed;
    },

    async approve(key: string, id: string, actor: Principal) {
      const plan = await loadOf(key, id);
      if (plan.status === 'paused') throw new AppError('CONFLICT', 'The plan is paused: resume it, then approve');
      if (plan.status !== 'active' || !plan.awaitingApproval) throw new AppError('CONFLICT', 'The plan is not waiting for an approval');
      const approvedBy = { userId: actor.userId, email: actor.email };
      await save({ ...plan, awaitingApproval: false, approvedStep: plan.step + 1, approvedBy, nextAt: now() }, plan, approvedBy);
      await advance(id);
      return (await store.getPlan(id))!;
    },

    /** Serves the flag's environment what it served before the plan, and ends the plan. */
    async rollback(key: string, id: string, actor: Principal) {
      const plan = await loadOf(key, id);
      if (plan.status !== 'active' && plan.status !== 'paused') throw new AppError('CONFLICT', `The plan is ${plan.status}`);
      const next: ReleasePlan = {
        ...plan,
        status: 'rolled-back',
        nextAt: null,
        awaitingApproval: false,
        outcome: `rolled back by ${actor.email}`,
      };
      const by = { userId: actor.userId, email: actor.email };
      await change(plan, plan.startServe, next, { releasePlanId: plan.id, rollback: true }, { strict: false, actor: by });
      return (await store.getPlan(id))!;
    },

    /**
     * One look at a running plan's guardrails (the release worker, every few seconds): the figures are kept for the
     * console; a breach rolls the flag back to the plan's start and ends the plan, with the figures in the audit
     * entry's cause; a split that does not match the weights pauses it (every comparison would be meaningless).
     */
    async guard(id: string, evaluator: GuardrailEvaluator): Promise<GuardOutcome> {
      const plan = await store.getPlan(id);
      if (plan?.status !== 'active') return 'not-running';
      const look = await evaluator.look(plan);
      await store.saveGuardrailChecks(plan.id, look.checks, look.sampleRatio);
      try {
        if (look.breach) {
          const next: ReleasePlan = {
            ...plan,
            status: 'rolled-back',
            nextAt: null,
            awaitingApproval: false,
            outcome: describeBreach(look.breach),
          };
          const cause = { releasePlanId: plan.id, rollback: true as const, guardrail: look.breach };
          // The plan's own step: its author is the actor, as for its milestones; the cause says what decided.
          await change(plan, plan.startServe, next, cause, { strict: false, actor: plan.createdBy, data: { guardrail: look.breach } });
          return 'rolled-back';
        }
        if (look.sampleRatio?.mismatch) {
          const remaining = plan.nextAt ? Math.max(0, plan.nextAt.getTime() - now().getTime()) : null;
          await save(
            { ...plan, status: 'paused', nextAt: null, pausedRemainingMs: remaining, outcome: describeMismatch(look.sampleRatio) },
            plan,
            null,
            { sampleRatio: look.sampleRatio },
          );
          return 'paused';
        }
      } catch (error) {
        // A person (or another worker) moved the plan meanwhile: the next look judges it as it is then.
        if (error instanceof AppError && error.code === 'CONFLICT') return 'not-running';
        throw error;
      }
      return 'holding';
    },

    /** Active plans that carry guardrails, to look at. */
    guarded: (limit: number) => store.listPlans({ guarded: true, limit }),

    advance,
    /** Active plans whose next milestone is due by then, earliest first (the worker's sweep). */
    due: (dueBy: Date, limit: number) => store.listPlans({ dueBy, limit }),
  };
}

export type ReleasePlanService = ReturnType<typeof createReleasePlanService>;
