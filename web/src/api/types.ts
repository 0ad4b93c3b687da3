/**
 * The shapes the services answer with, taken from the very schemas the services validate and serialize their
 * answers with (shared/contracts/*-api.ts, and the platform's models beside them): `Static<typeof Schema>`, so a
 * change to an answer changes these types, and the console no longer compiles where it relied on the old shape.
 * Type-only imports: nothing of the server code reaches the bundle.
 */
import type { Static } from 'typebox';
import type { EnvironmentState, FlagType, Prerequisite, Serve, Variant } from '../../../shared/contracts/flag-model.ts';
import type { Condition, Operator, RuleSpec } from '../../../shared/contracts/targeting-model.ts';
import type { EvaluationResult, Reason } from '../../../shared/contracts/evaluation-model.ts';
import type {
  ApiKeySchema,
  AuthSettingsSchema,
  CreatedApiKeySchema,
  CreatedInvitationSchema,
  InvitationSchema,
  LoginAnswerSchema,
  MeSchema,
  ProjectMemberSchema,
  UserSchema,
} from '../../../shared/contracts/auth-api.ts';
import type {
  ChangeRequestSchema,
  EnvironmentSchema,
  FlagAuditEntrySchema,
  FlagSchema,
  Guardrail as GuardrailSchema,
  ProjectSchema,
  GuardrailCheckSchema,
  ReleaseEventSchema,
  ReleasePlanSchema,
  ReleasePlanTemplateSchema,
  SampleRatioCheckSchema,
  ScheduledChangeSchema,
} from '../../../shared/contracts/flags-api.ts';
import type { MatchAnswerSchema, RuleSchema, SegmentSchema, TargetingAuditEntrySchema } from '../../../shared/contracts/targeting-api.ts';
import type {
  EvaluationEventSchema,
  Granularity,
  MetricAggregateSchema,
  MetricAggregatesSchema,
  StatsSchema,
} from '../../../shared/contracts/analytics-api.ts';
import type {
  WebhookDeliverySchema,
  WebhookEventType,
  WebhookSchema,
  WebhookWithSecretSchema,
} from '../../../shared/contracts/webhooks-api.ts';

export type {
  Condition,
  EnvironmentState,
  EvaluationResult,
  FlagType,
  Granularity,
  Operator,
  Prerequisite,
  Reason,
  RuleSpec,
  Serve,
  Variant,
};

/** Every paged list answers this way: a page of items, and the cursor of the next page (null on the last). */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

// auth
export type LoginAnswer = Static<typeof LoginAnswerSchema>;
export type Me = Static<typeof MeSchema>;
export type User = Static<typeof UserSchema>;
export type Role = User['role'];
export type ApiKey = Static<typeof ApiKeySchema>;
/** `server`: a backend's secret, evaluates every flag; `client`: public (a web page, an app), evaluates client-visible flags only. */
export type ApiKeyKind = ApiKey['kind'];
export type CreatedApiKey = Static<typeof CreatedApiKeySchema>;
/** What the sign-in page may offer: whether anyone may register, and from which e-mail domains (empty: any). */
export type AuthSettings = Static<typeof AuthSettingsSchema>;
/** A pending invitation (never its token). */
export type Invitation = Static<typeof InvitationSchema>;
/** A new invitation: its token and link, shown once. */
export type CreatedInvitation = Static<typeof CreatedInvitationSchema>;
/** A person's role in a project (GET /auth/projects/{project}/members): who, which role, since when. */
export type ProjectMember = Static<typeof ProjectMemberSchema>;

// flags
export type Flag = Static<typeof FlagSchema>;
/** A project the caller holds a role in, with that role (an organisation admin: admin of every project). */
export type Project = Static<typeof ProjectSchema>;
/** An environment every flag has a state in: its key (fixed), name, place in lists, and whether it is protected. */
export type Environment = Static<typeof EnvironmentSchema>;
export type FlagAuditEntry = Static<typeof FlagAuditEntrySchema>;
/** Who made a change, as the audit trail keeps them. */
export type Actor = FlagAuditEntry['actor'];
/** One field-level change of an audit entry. */
export type Change = FlagAuditEntry['changes'][number];
/**
 * What the release automation did: a scheduled change run (applied, conflicted, failed) or cancelled, a release
 * plan's start, milestone, wait for an approval, approval, pause, resume, completion or rollback — with who it is
 * credited to (null: the release worker on its own), why in words, and the figures that decided (a guardrail's, a split's).
 */
export type ReleaseEvent = Static<typeof ReleaseEventSchema>;
export type ReleaseEventType = ReleaseEvent['type'];
/** A change of one environment planned for a time, and how it ended. */
export type ScheduledChange = Static<typeof ScheduledChangeSchema>;
/** `pending` until it runs; then `applied`, `conflicted` (the flag changed after it was planned) or `failed`; or `cancelled`. */
export type ScheduleStatus = ScheduledChange['status'];
/** What a person's change of an environment, or a scheduled one, may set. */
export type EnvironmentPatch = ScheduledChange['change'];
/** What made a change when no person's request did at that moment: a scheduled change, or a release plan's step or rollback. */
export type ChangeCause = NonNullable<FlagAuditEntry['cause']>;
/** An environment's release in milestones, moved on by the release worker. */
export type ReleasePlan = Static<typeof ReleasePlanSchema>;
/** `active` or `paused` while it runs; `completed` or `rolled-back` once it ended. */
export type ReleasePlanStatus = ReleasePlan['status'];
/** One step of a release: a default serve, how long it holds before the next, and whether it waits for an approval. */
export type Milestone = ReleasePlan['milestones'][number];
/** Milestones saved under a name, to start release plans from. */
export type ReleasePlanTemplate = Static<typeof ReleasePlanTemplateSchema>;
/** What a release must not make worse: a metric's mean per event in the treatment variant against control. */
export type Guardrail = Static<typeof GuardrailSchema>;
/** A guardrail's figures at its last look (the always-valid test's p-value, the difference) and the verdict they gave. */
export type GuardrailCheck = Static<typeof GuardrailCheckSchema>;
/** `breach` (the plan is rolled back), `no-breach-yet` (holding) or `too-few-samples` (no verdict yet). */
export type GuardrailVerdict = GuardrailCheck['verdict'];
/** Whether the split actually served matches the weights of the plan's current milestone. */
export type SampleRatioCheck = Static<typeof SampleRatioCheckSchema>;
/**
 * A change to a (protected) environment waiting for others' approvals: its state (`change`), a scheduled change
 * (`schedule`), a release plan's start (`releasePlan`) or the flag's rules there, whole (`rules`), with the diff it
 * makes, its approvals and comments.
 */
export type ChangeRequest = Static<typeof ChangeRequestSchema>;
/** `open` → `approved` → `applied`; or `rejected`, `cancelled` (withdrawn), `conflicted` (the flag moved), `failed`. */
export type ChangeRequestStatus = ChangeRequest['status'];
export type ChangeRequestKind = ChangeRequest['kind'];

// targeting
export type Rule = Static<typeof RuleSchema>;
export type StoredSegment = Static<typeof SegmentSchema>;
export type TargetingAuditEntry = Static<typeof TargetingAuditEntrySchema>;
export type MatchAnswer = Static<typeof MatchAnswerSchema>;
export type RuleExplanation = MatchAnswer['explanation']['rules'][number];
export type ConditionExplanation = RuleExplanation['conditions'][number];

// analytics
export type Stats = Static<typeof StatsSchema>;
export type EvaluationEvent = Static<typeof EvaluationEventSchema>;
/** A metric's events (tracking) in one variant in one minute, as exact sums. */
export type MetricAggregate = Static<typeof MetricAggregateSchema>;
export type MetricAggregates = Static<typeof MetricAggregatesSchema>;

// webhooks
export type Webhook = Static<typeof WebhookSchema>;
/** What creating a webhook or rotating its secret answers: the signing secret, shown this once. */
export type WebhookWithSecret = Static<typeof WebhookWithSecretSchema>;
/** What a webhook's `events` may name: `*`, a group (`flag.*`, `schedule.*`, `plan.*`) or one event type. */
export type WebhookEventFilter = Webhook['events'][number];
export type WebhookFormat = Webhook['format'];
export type { WebhookEventType };
/** One event on its way to one webhook, and how sending it went. */
export type WebhookDelivery = Static<typeof WebhookDeliverySchema>;
/** `pending` until delivered (tried again with back-off) or `failed` (given up). */
export type WebhookDeliveryStatus = WebhookDelivery['status'];
/** One try at sending a delivery: the receiver's status code, or why there was none. */
export type WebhookAttempt = WebhookDelivery['attemptLog'][number];
