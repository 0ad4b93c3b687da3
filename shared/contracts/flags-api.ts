import { Type, type Static } from 'typebox';
import { Strict, Timestamp, Uuid } from '../http/schemas.ts';
import { AuditActorSchema, AuditChangeSchema } from './audit-api.ts';
import { EnvironmentPatch, EnvironmentState, FlagKey, flagTypes, Serve, Tag, Variant } from './flag-model.ts';
import { RuleSpec } from './targeting-model.ts';
import { ProjectKey } from './project-model.ts';

/**
 * What the flags service answers: the route schemas it validates and serializes with, and the OpenAPI document's.
 * The console takes its types from these (type-only), so the two cannot drift apart.
 */

export const FlagTypeSchema = Type.Enum([...flagTypes]);

/** A flag with its state in every environment (flag-model's FlagDocument). */
export const FlagSchema = Type.Object(
  {
    key: FlagKey,
    project: ProjectKey,
    name: Type.String(),
    description: Type.String(),
    tags: Type.Array(Tag),
    type: FlagTypeSchema,
    variants: Type.Array(Variant),
    salt: Type.String(),
    version: Type.Integer(),
    clientVisible: Type.Boolean({ description: 'Whether client-side SDKs (public `client` keys) may evaluate it' }),
    environments: Type.Record(Type.String(), EnvironmentState),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    archivedAt: Type.Union([Timestamp, Type.Null()], {
      description:
        'When the flag was archived (DELETE /flags/{key}): evaluation answers FLAG_NOT_FOUND, its history and rules are kept, POST /flags/{key}/restore brings it back; null while active',
    }),
    archivedBy: Type.Union([AuditActorSchema, Type.Null()], { description: 'Who archived it; null while active' }),
  },
  { $id: 'Flag' },
);

const ArmFigures = Type.Object({ variant: Type.String(), count: Type.Integer(), mean: Type.Number() });

/** A guardrail's figures at its last look, and the verdict they gave. */
export const GuardrailCheckSchema = Type.Object({
  metric: Type.String(),
  checkedAt: Timestamp,
  treatment: ArmFigures,
  control: ArmFigures,
  /** How much worse the treatment is (positive: worse), in the metric's unit. */
  difference: Type.Number(),
  maxDifference: Type.Number(),
  /** The always-valid p-value: the smallest seen over every look so far. */
  pValue: Type.Number(),
  alpha: Type.Number(),
  verdict: Type.Enum(['breach', 'no-breach-yet', 'too-few-samples']),
});

/**
 * What made a change when it was not a person's request at that moment: a scheduled change that ran, or a release
 * plan's milestone or rollback (their author is the audit entry's actor) — with the figures that decided, when a
 * guardrail rolled it back; or a person's copy of another environment's whole state (`copiedFrom`, that environment:
 * POST /flags/{key}/environments/{environment}/copy), whose rules targeting's history records apart.
 */
export const ChangeCauseSchema = Type.Union([
  Type.Object({ scheduleId: Type.String() }),
  /** Applied from an approved change request: its author is the actor; who approved it is here. */
  Type.Object({ changeRequestId: Type.String(), approvedBy: Type.Array(AuditActorSchema) }),
  Type.Object({ copiedFrom: Type.String({ description: 'The environment whose state (and targeting rules) was copied here' }) }),
  Type.Object({ releasePlanId: Type.String(), milestone: Type.Integer({ minimum: 0 }) }),
  Type.Object({
    releasePlanId: Type.String(),
    rollback: Type.Literal(true),
    /** The guardrail whose breach rolled the release back, with its figures. */
    guardrail: Type.Optional(GuardrailCheckSchema),
  }),
]);
export type ChangeCause = Static<typeof ChangeCauseSchema>;

/** One entry of GET /flags/{key}/history. */
export const FlagAuditEntrySchema = Type.Object({
  id: Type.Integer(),
  flagKey: Type.String(),
  action: Type.Enum(['created', 'updated', 'environment-updated', 'archived', 'restored', 'purged', 'deleted'], {
    description: '`deleted`: removed before flags were archived (a DELETE now archives; only a purge removes a flag)',
  }),
  environment: Type.Union([Type.String(), Type.Null()]),
  actor: AuditActorSchema,
  at: Timestamp,
  version: Type.Integer(),
  changes: Type.Array(AuditChangeSchema),
  before: Type.Unknown({ description: 'The flag before the change (null when created)' }),
  cause: Type.Optional(Type.Union([ChangeCauseSchema, Type.Null()])),
  after: Type.Unknown({ description: 'The flag after the change (null when purged, or deleted before flags were archived)' }),
});

/** How a scheduled change ended, or that it has not run yet. */
export const scheduleStatuses = ['pending', 'applied', 'conflicted', 'failed', 'cancelled'] as const;

/** A change of a flag's environment planned for a time (handlers/flags/schedules/scheduled-change.ts), as answered. */
export const ScheduledChangeSchema = Type.Object(
  {
    id: Uuid,
    flagKey: Type.String(),
    environment: Type.String(),
    change: EnvironmentPatch,
    runAt: Timestamp,
    plannedVersion: Type.Integer(),
    plannedState: Type.Union([EnvironmentState, Type.Null()], {
      description: 'The environment as it was planned on: at its time the change conflicts if a field it changes moved since',
    }),
    status: Type.Enum([...scheduleStatuses]),
    outcome: Type.Union([Type.String(), Type.Null()]),
    createdBy: Type.Object({ userId: Type.String(), email: Type.String() }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    closedAt: Type.Union([Timestamp, Type.Null()]),
    version: Type.Integer(),
  },
  { $id: 'ScheduledChange' },
);

/** One step of a release: what the environment serves by default, and how long before the next step. */
export const Milestone = Type.Object(
  {
    serve: Serve,
    holdSeconds: Type.Integer({ minimum: 1, maximum: 30 * 86_400, description: 'How long this step holds before the next one' }),
    approval: Type.Optional(Type.Boolean({ description: 'Wait for an approval before this step is applied' })),
  },
  { additionalProperties: false },
);

/** A name applications give their metric events (OpenFeature tracking event names). */
export const MetricName = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$', description: 'A tracking event name' });

/**
 * What a release must not make worse: the metric's mean per event in the treatment variant against control, judged
 * at every look by an always-valid sequential test (shared/statistics/sequential-test.ts).
 */
export const Guardrail = Type.Object(
  {
    metric: MetricName,
    treatment: Type.String({ minLength: 1, maxLength: 100, description: 'The variant being released' }),
    control: Type.String({ minLength: 1, maxLength: 100, description: 'The variant it is compared with' }),
    worseWhen: Type.Optional(
      Type.Enum(['higher', 'lower'], { default: 'higher', description: '`higher` for errors or latency, `lower` for conversions' }),
    ),
    maxDifference: Type.Number({
      minimum: 0,
      maximum: 1e9,
      description: 'How much worse than control the treatment may be, in the metric’s unit (0.01: one point of a 0/1 rate)',
    }),
    alpha: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, maximum: 0.2, default: 0.05, description: 'False-alarm rate allowed over the whole release' }),
    ),
    minSamples: Type.Optional(
      Type.Integer({ minimum: 30, maximum: 1_000_000, default: 100, description: 'No verdict before each variant has this many events' }),
    ),
  },
  { additionalProperties: false },
);

/** Whether the split actually served matches the weights of the plan's current milestone (Pearson's χ²). */
export const SampleRatioCheckSchema = Type.Object({
  checkedAt: Timestamp,
  observed: Type.Record(Type.String(), Type.Integer()),
  weights: Type.Record(Type.String(), Type.Number()),
  pValue: Type.Number(),
  mismatch: Type.Boolean(),
});

/** Whether a release plan is running (`active`, `paused`) or how it ended (`completed`, `rolled-back`). */
export const releasePlanStatuses = ['active', 'paused', 'completed', 'rolled-back'] as const;

/** A release of a flag's environment in milestones (handlers/flags/release-plans/release-plan.ts), as answered. */
export const ReleasePlanSchema = Type.Object(
  {
    id: Uuid,
    flagKey: Type.String(),
    environment: Type.String(),
    milestones: Type.Array(Milestone),
    guardrails: Type.Array(Guardrail),
    guardrailChecks: Type.Array(GuardrailCheckSchema, { description: 'Each guardrail’s last look, in the order of `guardrails`' }),
    sampleRatio: Type.Union([SampleRatioCheckSchema, Type.Null()]),
    status: Type.Enum([...releasePlanStatuses]),
    step: Type.Integer(),
    startServe: Serve,
    nextAt: Type.Union([Timestamp, Type.Null()]),
    awaitingApproval: Type.Boolean(),
    approvedStep: Type.Union([Type.Integer(), Type.Null()]),
    approvedBy: Type.Union([Type.Object({ userId: Type.String(), email: Type.String() }), Type.Null()]),
    serving: Type.Union([Serve, Type.Null()], {
      description: 'What the plan serves now; a step pauses the plan if the environment serves anything else',
    }),
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

/** Milestones saved under a name, to start release plans from. */
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

/** What the release automation does, as events (the console's timeline; what issue 18's webhooks deliver). */
export const releaseEventTypes = [
  'schedule.applied',
  'schedule.conflicted',
  'schedule.failed',
  'schedule.cancelled',
  'plan.started',
  'plan.milestone',
  'plan.awaiting-approval',
  'plan.approved',
  'plan.paused',
  'plan.resumed',
  'plan.completed',
  'plan.rolled-back',
  'change-request.opened',
  'change-request.approved',
  'change-request.rejected',
  'change-request.applied',
] as const;

/** One entry of GET /flags/{key}/release-events. */
export const ReleaseEventSchema = Type.Object(
  {
    id: Type.Integer(),
    type: Type.Enum([...releaseEventTypes]),
    flagKey: Type.String(),
    environment: Type.String(),
    scheduleId: Type.Union([Type.String(), Type.Null()]),
    releasePlanId: Type.Union([Type.String(), Type.Null()]),
    milestone: Type.Union([Type.Integer(), Type.Null()], { description: 'The milestone applied, waiting or approved (from 0)' }),
    actor: Type.Union([AuditActorSchema, Type.Null()], {
      description: 'Who it is credited to (as in the flag’s history); null when the release worker decided with no one’s change to apply',
    }),
    detail: Type.Union([Type.String(), Type.Null()], { description: 'Why, in words' }),
    guardrail: Type.Optional(GuardrailCheckSchema),
    sampleRatio: Type.Optional(SampleRatioCheckSchema),
    changeRequestId: Type.Optional(Type.String({ description: 'The change request a change-request.* event is about' })),
    at: Timestamp,
  },
  { $id: 'ReleaseEvent' },
);

/** An environment's key: fixed once made (flags' states, rules and SDK keys name it). */
export const EnvironmentKey = Type.String({ pattern: '^[a-z0-9]+(?:[-_][a-z0-9]+)*$', minLength: 1, maxLength: 64 });

/** A project: a team's flags, segments, SDK keys and webhooks, with roles granted to its members (auth). */
export const ProjectSchema = Type.Object(
  {
    key: ProjectKey,
    name: Type.String(),
    description: Type.String(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    role: Type.Union([Type.Enum(['viewer', 'editor', 'admin']), Type.Null()], {
      description: 'The caller’s role in it (an organisation admin is admin of every project)',
    }),
  },
  { $id: 'Project' },
);

export const ProjectFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  description: Type.String({ maxLength: 1000 }),
};

/** One of GET /flags/environments, in order. */
export const EnvironmentSchema = Type.Object(
  {
    key: EnvironmentKey,
    name: Type.String(),
    position: Type.Integer({ description: 'Its place in lists, from 0' }),
    protected: Type.Boolean({
      description: 'Production-like: changes there (state, schedules, release plans) go through change requests',
    }),
    requiredApprovals: Type.Integer({ minimum: 1, maximum: 10, description: 'Approvals a change request there needs (not its author’s)' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: Type.Integer(),
  },
  { $id: 'Environment' },
);

export const EnvironmentFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  protected: Type.Boolean(),
  requiredApprovals: Type.Integer({ minimum: 1, maximum: 10 }),
};

/** What starts a release plan (POST …/release-plans, or a change request's `releasePlan`). */
export const ReleasePlanStartSchema = Strict(
  {
    milestones: Type.Optional(Type.Array(Milestone, { minItems: 1, maxItems: 20 })),
    templateId: Type.Optional(Type.String({ format: 'uuid', description: 'Start from a saved template instead of milestones' })),
    guardrails: Type.Optional(
      Type.Array(Guardrail, {
        maxItems: 10,
        description: 'Metrics the treatment must not make worse than control; a breach rolls the plan back on its own',
      }),
    ),
  },
  { minProperties: 1 },
);

export const changeRequestStatuses = ['open', 'approved', 'applied', 'rejected', 'conflicted', 'failed', 'cancelled'] as const;

const Reviewer = Type.Object({ userId: Type.String(), email: Type.String(), at: Timestamp });

/**
 * A change to a (protected) environment waiting for approvals: exactly one of `change` (the environment's state),
 * `schedule` (a scheduled change) or `releasePlan` (starting one), with the diff it makes to the state it was
 * planned on.
 */
export const ChangeRequestSchema = Type.Object(
  {
    id: Uuid,
    flagKey: FlagKey,
    project: ProjectKey,
    environment: Type.String(),
    kind: Type.Enum(['change', 'schedule', 'release-plan', 'rules']),
    description: Type.Union([Type.String(), Type.Null()]),
    change: Type.Union([EnvironmentPatch, Type.Null()]),
    schedule: Type.Union([Type.Object({ runAt: Timestamp, change: EnvironmentPatch }), Type.Null()]),
    releasePlan: Type.Union([ReleasePlanStartSchema, Type.Null()]),
    rules: Type.Union([Type.Array(RuleSpec), Type.Null()], {
      description: 'The flag’s rules in the environment, whole and in order, as they will be',
    }),
    plannedVersion: Type.Integer({ description: 'The flag’s version when the request was opened' }),
    diff: Type.Array(AuditChangeSchema, { description: 'What it changes in the environment’s state (or rules), as planned' }),
    status: Type.Enum([...changeRequestStatuses], {
      description:
        'open → approved (enough approvals) → applied; rejected, cancelled (by its author), conflicted (the flag moved since it was planned) or failed (it no longer fits) end it',
    }),
    requiredApprovals: Type.Integer(),
    approvals: Type.Array(Reviewer),
    rejection: Type.Union([Type.Intersect([Reviewer, Type.Object({ comment: Type.String() })]), Type.Null()]),
    comments: Type.Array(Type.Object({ id: Type.Integer(), author: AuditActorSchema, body: Type.String(), at: Timestamp })),
    author: AuditActorSchema,
    appliedBy: Type.Union([AuditActorSchema, Type.Null()]),
    outcome: Type.Union([Type.String(), Type.Null()], { description: 'Why it ended as it did, in words' }),
    result: Type.Object({
      scheduleId: Type.Optional(Type.String()),
      releasePlanId: Type.Optional(Type.String()),
      flagVersion: Type.Optional(Type.Integer()),
    }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    closedAt: Type.Union([Timestamp, Type.Null()]),
    version: Type.Integer(),
  },
  { $id: 'ChangeRequest' },
);
