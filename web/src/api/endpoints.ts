import { api, query } from './client.ts';
import type {
  ApiKey,
  ApiKeyKind,
  AuthSettings,
  ChangeRequest,
  Condition,
  CreatedApiKey,
  CreatedInvitation,
  Environment,
  EnvironmentPatch,
  EvaluationEvent,
  Flag,
  FlagAuditEntry,
  FlagType,
  Granularity,
  Guardrail,
  Invitation,
  LoginAnswer,
  MatchAnswer,
  Me,
  MetricAggregates,
  Milestone,
  Page,
  Project,
  ProjectMember,
  Role,
  ReleaseEvent,
  ReleasePlan,
  ReleasePlanTemplate,
  Rule,
  RuleSpec,
  ScheduledChange,
  Serve,
  Stats,
  StoredSegment,
  TargetingAuditEntry,
  User,
  Variant,
  Webhook,
  WebhookDelivery,
  WebhookEventFilter,
  WebhookFormat,
  WebhookWithSecret,
} from './types.ts';

const enc = encodeURIComponent;

export const authApi = {
  login: (email: string, password: string) => api.post<LoginAnswer>('/auth/login', { email, password }, { auth: false }),
  /** Answers the same whether or not the email already had an account: signing in afterwards tells which. */
  register: (email: string, password: string, name?: string) =>
    api.post<{ message: string }>('/auth/register', { email, password, ...(name ? { name } : {}) }, { auth: false }),
  me: () => api.get<Me>('/auth/validate'),
  users: (cursor?: string) => api.get<Page<User>>(`/auth/users${query({ limit: 100, cursor })}`),
  updateUser: (id: string, patch: { role?: Role; disabled?: boolean }) => api.patch<User>(`/auth/users/${enc(id)}`, patch),
  /** The project's SDK keys (a key evaluates its project's flags only). */
  apiKeys: (project: string, params: { environment?: string | undefined; includeRevoked?: boolean }) =>
    api.get<{ items: ApiKey[] }>(`/auth/api-keys${query({ project, ...params })}`),
  createApiKey: (project: string, environment: string, name: string, kind: ApiKeyKind) =>
    api.post<CreatedApiKey>(`/auth/api-keys${query({ project })}`, { environment, name, kind }),
  revokeApiKey: (id: string) => api.delete(`/auth/api-keys/${enc(id)}`),
  /** Whether the sign-in page may offer "create an account" (self-registration), before anyone signs in. */
  settings: () => api.get<AuthSettings>('/auth/settings', { auth: false }),
  /** Pending invitations (admin): not accepted, revoked or expired. */
  invitations: () => api.get<{ items: Invitation[] }>('/auth/invitations'),
  /** The answer holds the link (token included) once: 409 when the e-mail already has an account. */
  createInvitation: (email: string, role: Role) => api.post<CreatedInvitation>('/auth/invitations', { email, role }),
  revokeInvitation: (id: string) => api.delete(`/auth/invitations/${enc(id)}`),
  /** Creates the invited account (the invitation's e-mail and role); sign in with its e-mail afterwards. */
  acceptInvitation: (token: string, password: string, name?: string) =>
    api.post<User>('/auth/invitations/accept', { token, password, ...(name ? { name } : {}) }, { auth: false }),
  /** The people holding a role in the project (its admins ask). */
  members: (project: string, signal?: AbortSignal) =>
    api.get<{ items: ProjectMember[] }>(`/auth/projects/${enc(project)}/members`, { signal }),
  /** Grants `role` in the project: adds the person, or changes their role there. */
  setMember: (project: string, userId: string, role: Role) =>
    api.put<ProjectMember>(`/auth/projects/${enc(project)}/members/${enc(userId)}`, { role }),
  removeMember: (project: string, userId: string) => api.delete(`/auth/projects/${enc(project)}/members/${enc(userId)}`),
};

/** Projects (the flags service keeps them): everyone lists those they hold a role in; organisation admins create and delete. */
export const projectsApi = {
  list: (signal?: AbortSignal) => api.get<{ items: Project[] }>('/flags/projects', { signal }),
  /** With its ETag, for a rename. */
  get: (key: string, signal?: AbortSignal) => api.get<Project>(`/flags/projects/${enc(key)}`, { signal }),
  create: (project: { key: string; name: string; description?: string }) => api.post<Project>('/flags/projects', project),
  /** Its admins rename it or change its description. */
  update: (key: string, patch: { name?: string; description?: string }, etag?: string) =>
    api.patch<Project>(`/flags/projects/${enc(key)}`, patch, { ifMatch: etag }),
  /** 409 saying what is left while it holds anything (flags, segments, SDK keys, webhooks, members); never the default project. */
  delete: (key: string) => api.delete(`/flags/projects/${enc(key)}`),
};

export interface NewFlag {
  key: string;
  name: string;
  description?: string;
  tags?: string[];
  type: FlagType;
  variants: Variant[];
  /** Whether client keys (web pages, apps) may evaluate it; the API's default is false. */
  clientVisible?: boolean;
}

export type { EnvironmentPatch };

export const flagsApi = {
  /** A project's active flags, or its archived ones with `archived: true` (same filters and pages). */
  list: (params: { project: string; q?: string; tag?: string; type?: string; cursor?: string; limit?: number; archived?: boolean }) =>
    api.get<Page<Flag>>(`/flags${query({ limit: 20, ...params, archived: params.archived || undefined })}`),
  environments: () => api.get<{ items: Environment[] }>('/flags/environments'),
  get: (key: string) => api.get<Flag>(`/flags/${enc(key)}`),
  create: (project: string, flag: NewFlag) => api.post<Flag>(`/flags${query({ project })}`, flag),
  update: (key: string, definition: Omit<NewFlag, 'key'>, etag?: string) =>
    api.put<Flag>(`/flags/${enc(key)}`, definition, { ifMatch: etag }),
  updateEnvironment: (key: string, environment: string, patch: EnvironmentPatch, etag?: string) =>
    api.patch<Flag>(`/flags/${enc(key)}/environments/${enc(environment)}`, patch, { ifMatch: etag }),
  /**
   * Makes the flag in `environment` what it is in `from`: its state and its targeting rules (copies replacing the
   * rules there). Two audit entries record it, one in targeting's history, one in the flag's.
   */
  copyEnvironment: (key: string, environment: string, from: string, etag?: string) =>
    api.post<Flag>(`/flags/${enc(key)}/environments/${enc(environment)}/copy`, { from }, { ifMatch: etag }),
  /** DELETE archives: evaluation no longer knows the flag; its history, state and rules are kept (restore, or purge). */
  archive: (key: string, etag?: string) => api.delete(`/flags/${enc(key)}`, { ifMatch: etag }),
  /** Brings an archived flag back as it was archived. */
  restore: (key: string, etag?: string) => api.post<Flag>(`/flags/${enc(key)}/restore`, undefined, { ifMatch: etag }),
  /** Removes an archived flag and its targeting rules for good (admins); its history stays. */
  purge: (key: string, etag?: string) => api.post<null>(`/flags/${enc(key)}/purge`, undefined, { ifMatch: etag }),
  history: (key: string, cursor?: string) => api.get<Page<FlagAuditEntry>>(`/flags/${enc(key)}/history${query({ limit: 50, cursor })}`),
  /** Every scheduled change of the flag (each environment, each status), earliest first. */
  schedules: (key: string, signal?: AbortSignal) => api.get<{ items: ScheduledChange[] }>(`/flags/${enc(key)}/schedules`, { signal }),
  /** Plans `change` for `runAt` (ISO, UTC) against the flag version `flagVersion`: it is applied then only if the flag has not moved. */
  scheduleChange: (key: string, environment: string, runAt: string, change: EnvironmentPatch, flagVersion: number) =>
    api.post<ScheduledChange>(
      `/flags/${enc(key)}/environments/${enc(environment)}/schedules`,
      { runAt, change },
      { ifMatch: `"${flagVersion}"` },
    ),
  /** Moves or changes a pending scheduled change (planned again against the flag as it is now). */
  updateSchedule: (key: string, schedule: Pick<ScheduledChange, 'id' | 'version'>, patch: { runAt?: string; change?: EnvironmentPatch }) =>
    api.patch<ScheduledChange>(`/flags/${enc(key)}/schedules/${enc(schedule.id)}`, patch, { ifMatch: `"${schedule.version}"` }),
  cancelSchedule: (key: string, id: string) => api.delete(`/flags/${enc(key)}/schedules/${enc(id)}`),
  /** The flag's release plans, newest first: the running one of each environment (active or paused) and how the others ended. */
  releasePlans: (key: string, signal?: AbortSignal) => api.get<{ items: ReleasePlan[] }>(`/flags/${enc(key)}/release-plans`, { signal }),
  /**
   * Starts a release of `environment` by milestones, or from a saved template, on the flag version `flagVersion`: the
   * first milestone is applied at once (409 when a plan already runs there, 400 when a milestone could not be applied).
   * Its guardrails (at most 10), if any, roll it back on their own when the treatment is worse than control.
   */
  startReleasePlan: (key: string, environment: string, plan: ReleasePlanStart, flagVersion: number) =>
    api.post<ReleasePlan>(`/flags/${enc(key)}/environments/${enc(environment)}/release-plans`, plan, { ifMatch: `"${flagVersion}"` }),
  /** pause (the milestone keeps its time left), resume, approve (the milestone waiting for it), rollback (serve what it served before). */
  actOnReleasePlan: (key: string, id: string, action: ReleasePlanAction) =>
    api.post<ReleasePlan>(`/flags/${enc(key)}/release-plans/${enc(id)}/${action}`, undefined),
  /**
   * What the release automation did on the flag (every environment's schedules run and plans moved, and why), newest
   * first, `limit` at a time (at most 200); `cursor` is the answer's `nextCursor`, for older ones.
   */
  releaseEvents: (key: string, params: { limit?: number; cursor?: string | undefined } = {}, signal?: AbortSignal) =>
    api.get<Page<ReleaseEvent>>(`/flags/${enc(key)}/release-events${query({ limit: 50, ...params })}`, { signal }),
  releasePlanTemplates: () => api.get<{ items: ReleasePlanTemplate[] }>('/flags/release-plan-templates'),
  /** Saves milestones under a name (409 when the name is taken). */
  createReleasePlanTemplate: (name: string, milestones: Milestone[]) =>
    api.post<ReleasePlanTemplate>('/flags/release-plan-templates', { name, milestones }),
  deleteReleasePlanTemplate: (id: string) => api.delete(`/flags/release-plan-templates/${enc(id)}`),
};

/** What an admin sets on an environment. */
export interface EnvironmentSettings {
  name?: string;
  protected?: boolean;
  requiredApprovals?: number;
}

/** The environments (admins change them; anyone reads them through flagsApi.environments). */
export const environmentsApi = {
  list: () => flagsApi.environments(),
  /** Added last in the order; every flag starts off there. */
  create: (key: string, settings: EnvironmentSettings) => api.post<Environment>('/flags/environments', { key, ...settings }),
  update: (environment: Pick<Environment, 'key' | 'version'>, settings: EnvironmentSettings) =>
    api.patch<Environment>(`/flags/environments/${enc(environment.key)}`, settings, { ifMatch: `"${environment.version}"` }),
  /** Every key, once, first to last. */
  reorder: (keys: string[]) => api.put<{ items: Environment[] }>('/flags/environments/order', { keys }),
  /** 409 naming what still lives there (flags on, rules, SDK keys, schedules, plans) unless it is empty. */
  delete: (key: string) => api.delete(`/flags/environments/${enc(key)}`),
};

/**
 * What a change request proposes for an environment: exactly one of its state's fields (`change`), a scheduled change
 * (`schedule`, runAt in ISO UTC), a release plan's start (`releasePlan`) or the flag's rules there, whole and in order
 * (`rules`), and why, for the reviewers.
 */
export type ChangeProposal = { description?: string } & (
  | { change: EnvironmentPatch }
  | { schedule: { runAt: string; change: EnvironmentPatch } }
  | { releasePlan: ReleasePlanStart }
  | { rules: RuleSpec[] }
);

/** `reject` needs a comment (the reason); `cancel` withdraws it (its author, or an admin); `apply` once approved. */
export type ChangeRequestAction = 'approve' | 'reject' | 'cancel' | 'apply';

/** Change requests: how a protected environment is changed, once others approved. */
export const changeRequestsApi = {
  /** Checked now as it will be applied (400 when it never could); 201 with the request, open. */
  open: (key: string, environment: string, proposal: ChangeProposal) =>
    api.post<ChangeRequest>(`/flags/${enc(key)}/environments/${enc(environment)}/change-requests`, proposal),
  /** Every flag's of the project, newest first; `waiting`: those open or approved, not applied yet. */
  list: (project: string, params: { waiting?: boolean; limit?: number } = {}, signal?: AbortSignal) =>
    api.get<{ items: ChangeRequest[] }>(
      `/flags/change-requests${query({ limit: 100, ...params, waiting: params.waiting || undefined, project })}`,
      { signal },
    ),
  /** One flag's, newest first. */
  ofFlag: (key: string, params: { waiting?: boolean; limit?: number } = {}, signal?: AbortSignal) =>
    api.get<{ items: ChangeRequest[] }>(
      `/flags/${enc(key)}/change-requests${query({ limit: 100, ...params, waiting: params.waiting || undefined })}`,
      { signal },
    ),
  get: (id: string, signal?: AbortSignal) => api.get<ChangeRequest>(`/flags/change-requests/${enc(id)}`, { signal }),
  /** 403 when the author approves (or rejects) their own; 409 on apply when the flag moved since (the request is then closed as conflicted). */
  act: (id: string, action: ChangeRequestAction, comment?: string) =>
    api.post<ChangeRequest>(`/flags/change-requests/${enc(id)}/${action}`, comment ? { comment } : {}),
  comment: (id: string, body: string) => api.post<ChangeRequest>(`/flags/change-requests/${enc(id)}/comments`, { body }),
};

export type ReleasePlanAction = 'pause' | 'resume' | 'approve' | 'rollback';

/** What starts a release plan: its milestones or a saved template's, and its guardrails (sent only when there are some). */
export type ReleasePlanStart = ({ milestones: Milestone[] } | { templateId: string }) & { guardrails?: Guardrail[] };

export interface RuleInput {
  name?: string;
  conditions: Condition[];
  segments?: string[];
  serve: Serve;
}

export interface SegmentInput {
  name: string;
  description?: string;
  conditions?: Condition[];
  included?: string[];
  excluded?: string[];
}

export const targetingApi = {
  rules: (flagKey: string, environment?: string) => api.get<{ items: Rule[] }>(`/targeting/rules${query({ flagKey, environment })}`),
  createRule: (flagKey: string, environment: string, rule: RuleInput) =>
    api.post<Rule>('/targeting/rules', { flagKey, environment, ...rule }),
  updateRule: (id: string, rule: RuleInput) => api.put<Rule>(`/targeting/rules/${enc(id)}`, rule),
  deleteRule: (id: string) => api.delete(`/targeting/rules/${enc(id)}`),
  reorder: (flagKey: string, environment: string, ruleIds: string[]) =>
    api.put<{ items: Rule[] }>('/targeting/rules/order', { flagKey, environment, ruleIds }),
  /** The project's segments (rules use those of their flag's project). */
  segments: (project: string) => api.get<{ items: StoredSegment[] }>(`/targeting/segments${query({ project })}`),
  segment: (key: string) => api.get<StoredSegment>(`/targeting/segments/${enc(key)}`),
  createSegment: (project: string, key: string, segment: SegmentInput) =>
    api.post<StoredSegment>(`/targeting/segments${query({ project })}`, { key, ...segment }),
  updateSegment: (key: string, segment: SegmentInput, etag?: string) =>
    api.put<StoredSegment>(`/targeting/segments/${enc(key)}`, segment, { ifMatch: etag }),
  deleteSegment: (key: string, etag?: string) => api.delete(`/targeting/segments/${enc(key)}`, { ifMatch: etag }),
  match: (flagKey: string, environment: string, context: Record<string, unknown>) =>
    api.post<MatchAnswer>('/targeting/match', { flagKey, environment, context }),
  history: (params: { flagKey?: string; segmentKey?: string; cursor?: string }) =>
    api.get<Page<TargetingAuditEntry>>(`/targeting/history${query({ limit: 50, ...params })}`),
};

export const analyticsApi = {
  stats: (flagKey: string, environment: string, granularity: Granularity, signal?: AbortSignal) =>
    api.get<Stats>(`/analytics/stats${query({ flagKey, environment, granularity })}`, { signal }),
  events: (environment: string, flagKey: string, signal?: AbortSignal) =>
    api.get<Page<EvaluationEvent>>(`/analytics/events${query({ environment, flagKey, limit: 20 })}`, { signal }),
  /**
   * A flag's metric events (tracking) between `from` and `to` (ISO): count, sum and sum of squares per metric,
   * variant and minute, in that order; minutes without events left out. `metric` narrows them to one metric.
   */
  metrics: (
    params: { flagKey: string; environment: string; from: string; to: string; metric?: string | undefined },
    signal?: AbortSignal,
  ) => api.get<MetricAggregates>(`/analytics/metrics${query(params)}`, { signal }),
};

/** What a webhook is made of, as the create form sends it (PATCH sends the fields that changed). */
export interface WebhookInput {
  name: string;
  url: string;
  events: WebhookEventFilter[];
  format: WebhookFormat;
  enabled?: boolean;
}

/** Webhooks (a project's admins only): a target URL can be a credential, as Slack's are. Proxied to the flags service. */
export const webhooksApi = {
  /** The project's webhooks (its admins). */
  list: (project: string, signal?: AbortSignal) => api.get<{ items: Webhook[] }>(`/webhooks${query({ project })}`, { signal }),
  /** One webhook, whatever its project (a link to it). */
  get: (id: string, signal?: AbortSignal) => api.get<Webhook>(`/webhooks/${enc(id)}`, { signal }),
  /** 422 with an error at `/url` when the URL's host resolves to an internal address the deployment does not open. */
  create: (project: string, webhook: WebhookInput) => api.post<WebhookWithSecret>(`/webhooks${query({ project })}`, webhook),
  update: (webhook: Pick<Webhook, 'id' | 'version'>, patch: Partial<WebhookInput>) =>
    api.patch<Webhook>(`/webhooks/${enc(webhook.id)}`, patch, { ifMatch: `"${webhook.version}"` }),
  delete: (id: string) => api.delete(`/webhooks/${enc(id)}`),
  /** A new signing secret, answered once; the old one stops signing at once. */
  rotateSecret: (id: string) => api.post<WebhookWithSecret>(`/webhooks/${enc(id)}/rotate-secret`, undefined),
  /** Queues a `webhook.test` event; its delivery shows in the log like any other. */
  test: (id: string) => api.post<{ deliveryId: string }>(`/webhooks/${enc(id)}/test`, undefined),
  /** The delivery log, newest first; `cursor` is an answer's `nextCursor`, for older ones. */
  deliveries: (id: string, params: { limit?: number; cursor?: string | undefined } = {}, signal?: AbortSignal) =>
    api.get<Page<WebhookDelivery>>(`/webhooks/${enc(id)}/deliveries${query({ limit: 20, ...params })}`, { signal }),
  /** Sends a given-up (failed) delivery again. */
  redeliver: (id: string, deliveryId: string) => api.post<null>(`/webhooks/${enc(id)}/deliveries/${enc(deliveryId)}/redeliver`, undefined),
};
