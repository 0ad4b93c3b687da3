import { defaultProject } from '../../shared/contracts/project-model.ts';
import { randomBytes } from 'node:crypto';
import { diff } from '../../shared/audit/diff.ts';
import {
  serveProblems,
  valueProblem,
  variantsUsedBy,
  type EnvironmentPatch,
  type EnvironmentState,
  type FieldProblem,
  type FlagType,
  type Prerequisite,
  type Variant,
} from '../../shared/contracts/flag-model.ts';
import type { Principal } from '../../shared/http/authenticate.ts';
import type { FlagRulesClient } from '../../shared/clients/targeting-client.ts';
import type { Credential } from '../../shared/clients/service-client.ts';
import type { Rule } from '../../shared/contracts/targeting-model.ts';
import { AppError } from '../../shared/http/problem.ts';
import { changedFields } from '../../shared/http/schemas.ts';
import { assertIfMatch } from '../../shared/http/if-match.ts';
import { toDocument, type AuditAction, type Flag, type FlagFilter, type FlagStore, type PrerequisiteEdge } from './flag-store.ts';
import type { WriteOutcome } from '../../shared/db/audited-write.ts';
import type { ChangeCause } from '../../shared/contracts/flags-api.ts';
import { seededEnvironment, type EnvironmentSource } from './environments/environment.ts';

export interface FlagDefinition {
  name: string;
  description?: string | undefined;
  tags?: string[] | undefined;
  type: FlagType;
  variants?: Variant[] | undefined;
  /** Omitted: false on creation, unchanged on a PUT (an older client must not hide a flag from browsers). */
  clientVisible?: boolean | undefined;
}

/** A PUT may also send back what GET answered; of that, only these must be as stored (the rest is ignored). */
export interface FlagReplacement extends FlagDefinition {
  key?: string | undefined;
  salt?: string | undefined;
}

const fixedFields = {
  key: 'a flag keeps its key; create a new flag instead',
  salt: 'it is fixed at creation, so users keep their buckets',
  project: 'a flag stays in the project it was created in',
};

export interface NewFlag extends FlagDefinition {
  key: string;
  environments?: Record<string, EnvironmentPatch> | undefined;
}

/** Keys that name a route under /flags rather than a flag. */
const reservedKeys = new Set(['environments', 'release-plan-templates', 'change-requests', 'projects']);
const maxVariants = 50;

const defaultBooleanVariants: Variant[] = [
  { key: 'on', value: true },
  { key: 'off', value: false },
];

function invalid(problems: FieldProblem[], summary = 'The flag is not valid'): never {
  throw new AppError('VALIDATION_FAILED', `${summary}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, { errors: problems });
}

function variantProblems(type: FlagType, variants: Variant[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (variants.length === 0) problems.push({ path: 'body/variants', message: 'must have at least one variant' });
  if (variants.length > maxVariants) problems.push({ path: 'body/variants', message: `may have at most ${maxVariants} variants` });
  const seen = new Set<string>();
  variants.forEach((variant, i) => {
    if (seen.has(variant.key)) problems.push({ path: `body/variants/${i}/key`, message: `"${variant.key}" appears twice` });
    seen.add(variant.key);
    const problem = valueProblem(type, variant.value);
    if (problem) problems.push({ path: `body/variants/${i}/value`, message: problem });
  });
  return problems;
}

/** A new environment starts off, serving the "false"-like variant when off and the "true"-like one by default. */
function defaultState(type: FlagType, variants: Variant[]): EnvironmentState {
  const first = variants[0]?.key ?? '';
  const byValue = (value: boolean) => (type === 'boolean' ? variants.find((v) => v.value === value)?.key : undefined);
  return { enabled: false, offVariant: byValue(false) ?? first, defaultServe: { variant: byValue(true) ?? first }, prerequisites: [] };
}

/** Without a targeting service to ask, nobody can say that no rule serves a variant: a removal is refused (503). */
const noTargeting: FlagRulesClient = {
  listRulesOfFlag: () =>
    Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'No targeting service is configured to say which rules serve this flag')),
  listRulesIn: () =>
    Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'No targeting service is configured to say which rules an environment has')),
  deleteRule: () =>
    Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'No targeting service is configured to remove the rules of this flag')),
  copyRules: () => Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'No targeting service is configured to copy the rules of this flag')),
  setRules: () => Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'No targeting service is configured to set the rules of this flag')),
};

/** "archived by ann@example.com on 2025-06-01 12:00 UTC": who and when, for messages. */
const archivedWhen = (flag: Flag) =>
  `archived${flag.archivedBy ? ` by ${flag.archivedBy.email}` : ''}${flag.archivedAt ? ` on ${flag.archivedAt.toISOString()}` : ''}`;

/** Rules that serve one of `removed`, alone or in a split, as "environment: rule … serves …" lines. */
function rulesServing(rules: Rule[], removed: ReadonlySet<string>): string[] {
  return rules
    .map((rule) => {
      const served = rule.serve.variant !== undefined ? [rule.serve.variant] : (rule.serve.rollout ?? []).map((slice) => slice.variant);
      const lost = served.filter((variant) => removed.has(variant));
      if (lost.length === 0) return undefined;
      const name = rule.name ? `rule "${rule.name}" (${rule.id})` : `rule ${rule.id}`;
      return `${rule.environment}: ${name} serves ${lost.map((v) => `"${v}"`).join(', ')}${rule.serve.rollout ? ' in a split' : ''}`;
    })
    .filter((line) => line !== undefined)
    .sort();
}

/** A fixed list of environments as a source (tests, and what ENVIRONMENTS names before the table exists). */
export const fixedEnvironments = (keys: readonly string[]): EnvironmentSource => ({
  list: async () => keys.map((key, position) => seededEnvironment(key, position, new Date(0))),
});

export function createFlagService(deps: {
  store: FlagStore;
  /** The environments table (or a fixed list): every flag has a state in each. */
  environments: EnvironmentSource | readonly string[];
  targeting?: FlagRulesClient;
  now?: () => Date;
}) {
  const { store } = deps;
  const source = 'list' in deps.environments ? deps.environments : fixedEnvironments(deps.environments);
  const environmentKeys = async () => (await source.list()).map((e) => e.key);
  const targeting = deps.targeting ?? noTargeting;
  const now = deps.now ?? (() => new Date());

  /** Every environment has a state, also one created after the flag was made (and one deleted has none). */
  function withAllEnvironments(flag: Flag, environments: readonly string[]): Flag {
    const states: Record<string, EnvironmentState> = {};
    for (const env of environments) states[env] = flag.environments[env] ?? defaultState(flag.type, flag.variants);
    return { ...flag, environments: states };
  }

  /** The flag, active or archived (GET answers both; an archived one says so). */
  async function load(key: string): Promise<Flag> {
    const flag = await store.get(key);
    if (!flag) throw new AppError('NOT_FOUND', `No flag "${key}"`);
    return withAllEnvironments(flag, await environmentKeys());
  }

  /** An archived flag cannot change (nor its schedules and plans) until it is restored: 409 saying so. */
  function assertActive(flag: Flag): void {
    if (flag.archivedAt) throw new AppError('CONFLICT', `"${flag.key}" is archived (${archivedWhen(flag)}); restore it to change it`);
  }

  /** State problems of one environment: variants it points at, its serve, and its prerequisites. */
  async function stateProblems(
    flag: Flag,
    environment: string,
    state: EnvironmentState,
    path: string,
    edges: PrerequisiteEdge[],
  ): Promise<FieldProblem[]> {
    const keys = new Set(flag.variants.map((v) => v.key));
    const problems: FieldProblem[] = [];
    if (!keys.has(state.offVariant))
      problems.push({ path: `${path}/offVariant`, message: `names no variant of this flag ("${state.offVariant}")` });
    problems.push(...serveProblems(state.defaultServe, keys, `${path}/defaultServe`));
    for (const [i, prerequisite] of state.prerequisites.entries()) {
      problems.push(
        ...(await prerequisiteProblems(flag, environment, prerequisite, `${path}/prerequisites/${i}`, state.prerequisites, edges)),
      );
    }
    return problems;
  }

  async function prerequisiteProblems(
    { key, project }: Flag,
    environment: string,
    prerequisite: Prerequisite,
    path: string,
    own: Prerequisite[],
    edges: PrerequisiteEdge[],
  ): Promise<FieldProblem[]> {
    if (prerequisite.flagKey === key) return [{ path, message: 'a flag cannot be its own prerequisite' }];
    const target = await store.get(prerequisite.flagKey);
    // Another project's flag is not there for this one: its members may not see it, and its SDK keys not evaluate it.
    if (!target || target.project !== project) return [{ path: `${path}/flagKey`, message: `names no flag ("${prerequisite.flagKey}")` }];
    if (target.archivedAt)
      return [{ path: `${path}/flagKey`, message: `names an archived flag ("${prerequisite.flagKey}"): restore it first` }];
    if (!target.variants.some((v) => v.key === prerequisite.variant))
      return [{ path: `${path}/variant`, message: `names no variant of "${prerequisite.flagKey}"` }];
    // Would this edge close a loop? Follow the prerequisites of the prerequisite, in this environment, back to us.
    const next = new Map<string, string[]>();
    for (const e of edges)
      if (e.environment === environment && e.flagKey !== key) next.set(e.flagKey, [...(next.get(e.flagKey) ?? []), e.prerequisite.flagKey]);
    next.set(
      key,
      own.map((p) => p.flagKey),
    );
    const seen = new Set<string>();
    const stack = [prerequisite.flagKey];
    while (stack.length > 0) {
      const current = stack.pop()!;
      if (current === key) return [{ path, message: `makes a cycle: "${prerequisite.flagKey}" depends on "${key}" in ${environment}` }];
      if (seen.has(current)) continue;
      seen.add(current);
      stack.push(...(next.get(current) ?? []));
    }
    return [];
  }

  function applyPatch(state: EnvironmentState, patch: EnvironmentPatch): EnvironmentState {
    return {
      enabled: patch.enabled ?? state.enabled,
      offVariant: patch.offVariant ?? state.offVariant,
      defaultServe: patch.defaultServe ?? state.defaultServe,
      prerequisites: patch.prerequisites ?? state.prerequisites,
    };
  }

  /** The flag as `patch` would leave it in `environment`, checked as any change of it is (400 when it cannot be). */
  async function planEnvironmentChange(current: Flag, environment: string, patch: EnvironmentPatch): Promise<Flag> {
    assertActive(current);
    const state = applyPatch(current.environments[environment]!, patch);
    const next: Flag = {
      ...current,
      environments: { ...current.environments, [environment]: state },
      version: current.version + 1,
      updatedAt: now(),
    };
    const problems = await stateProblems(next, environment, state, 'body', patch.prerequisites ? await store.prerequisiteEdges() : []);
    if (problems.length > 0) invalid(problems, `The ${environment} state is not valid`);
    return next;
  }

  /** What a change of an environment writes with the flag: its audit entry (naming its cause, if not a person) and outbox change. */
  function environmentWrite(
    current: Flag,
    next: Flag,
    actor: Pick<Principal, 'userId' | 'email'>,
    environment: string,
    cause?: ChangeCause,
  ) {
    return writeRecord('environment-updated', current, next, actor, environment, cause ?? null);
  }

  /**
   * A protected environment takes changes only through approved change requests: refused (409
   * CHANGE_REQUEST_REQUIRED) with where to open one. `what`: the change, in words ("change its state").
   */
  async function assertUnprotected(environment: string, what: string): Promise<void> {
    const found = (await source.list()).find((e) => e.key === environment);
    if (found?.protected)
      throw new AppError(
        'CHANGE_REQUEST_REQUIRED',
        `"${environment}" is protected: to ${what} there, open a change request (POST /flags/{key}/environments/${environment}/change-requests); it applies once ${found.requiredApprovals} other ${found.requiredApprovals === 1 ? 'person approves' : 'people approve'} it`,
      );
  }

  async function assertEnvironment(environment: string): Promise<void> {
    const environments = await environmentKeys();
    if (!environments.includes(environment))
      throw new AppError('NOT_FOUND', `No environment "${environment}" (known: ${environments.join(', ')})`);
  }

  function writeRecord(
    action: AuditAction,
    before: Flag | null,
    after: Flag | null,
    actor: Pick<Principal, 'userId' | 'email'>,
    environment: string | null = null,
    cause: ChangeCause | null = null,
  ) {
    const beforeDoc = before && toDocument(before);
    const afterDoc = after && toDocument(after);
    const key = (after ?? before)!.key;
    const version = (after ?? before)!.version;
    return {
      audit: [
        {
          flagKey: key,
          action,
          environment,
          actor: { userId: actor.userId, email: actor.email },
          at: now(),
          version,
          before: beforeDoc,
          after: afterDoc,
          changes: diff(
            beforeDoc && { ...beforeDoc, updatedAt: undefined, version: undefined },
            afterDoc && { ...afterDoc, updatedAt: undefined, version: undefined },
          ),
          cause,
        },
      ],
      change: { kind: 'flag' as const, key },
    };
  }

  function settle(outcome: WriteOutcome, key: string): void {
    if (outcome === 'not-found') throw new AppError('NOT_FOUND', `No flag "${key}"`);
    if (outcome === 'stale')
      throw new AppError('CONFLICT', `"${key}" was changed by someone else at the same moment; reload it and try again`);
  }

  /**
   * Other flags whose prerequisites name variants of `flag` that `variants` no longer has (or the flag itself).
   * Archived flags count too (they come back as they were), unless `activeOnly`.
   */
  function brokenDependents(flag: Flag, edges: PrerequisiteEdge[], variants?: Variant[], activeOnly = false): string[] {
    const remaining = variants && new Set(variants.map((v) => v.key));
    return edges
      .filter(
        (e) =>
          e.prerequisite.flagKey === flag.key &&
          e.flagKey !== flag.key &&
          (!activeOnly || !e.archived) &&
          (!remaining || !remaining.has(e.prerequisite.variant)),
      )
      .map((e) => `${e.flagKey} (${e.environment}${e.archived ? ', archived' : ''})`);
  }

  return {
    async list(filter: FlagFilter) {
      const page = await store.list(filter);
      const environments = await environmentKeys();
      return { items: page.items.map((flag) => withAllEnvironments(flag, environments)), nextCursor: page.nextCursor };
    },

    get: load,

    async create(input: NewFlag, actor: Principal, project: string = defaultProject): Promise<Flag> {
      if (reservedKeys.has(input.key)) invalid([{ path: 'body/key', message: `"${input.key}" is reserved` }]);
      const variants = input.variants ?? (input.type === 'boolean' ? defaultBooleanVariants : []);
      const variantIssues = variantProblems(input.type, variants);
      if (variantIssues.length > 0) invalid(variantIssues);
      const at = now();
      const flag: Flag = {
        key: input.key,
        project,
        name: input.name,
        description: input.description ?? '',
        tags: [...new Set(input.tags ?? [])],
        type: input.type,
        variants,
        salt: randomBytes(8).toString('hex'),
        version: 1,
        clientVisible: input.clientVisible ?? false,
        environments: {},
        createdAt: at,
        updatedAt: at,
        archivedAt: null,
        archivedBy: null,
      };
      const environments = await environmentKeys();
      const unknown = Object.keys(input.environments ?? {}).filter((env) => !environments.includes(env));
      if (unknown.length > 0)
        invalid(
          unknown.map((env) => ({
            path: `body/environments/${env}`,
            message: `is not an environment (known: ${environments.join(', ')})`,
          })),
        );
      // The prerequisite graph (a scan of every flag) only when this flag names prerequisites: creating many flags
      // must not cost a scan each.
      const namesPrerequisites = Object.values(input.environments ?? {}).some((patch) => (patch.prerequisites?.length ?? 0) > 0);
      const edges = namesPrerequisites ? await store.prerequisiteEdges() : [];
      const problems: FieldProblem[] = [];
      for (const env of environments) {
        const state = applyPatch(defaultState(flag.type, variants), input.environments?.[env] ?? {});
        flag.environments[env] = state;
        problems.push(...(await stateProblems(flag, env, state, `body/environments/${env}`, edges)));
      }
      if (problems.length > 0) invalid(problems);
      if (!(await store.create(flag, writeRecord('created', null, flag, actor)))) {
        const taken = await store.get(input.key);
        if (taken?.archivedAt)
          throw new AppError(
            'CONFLICT',
            `A flag "${input.key}" exists, archived (${archivedWhen(taken)}): restore it (POST /flags/${input.key}/restore), or have an admin purge it to reuse the key`,
          );
        throw new AppError('CONFLICT', `A flag "${input.key}" already exists`);
      }
      return flag;
    },

    /** `credential` is the caller's, passed on to ask targeting which rules serve a variant this change removes. */
    async update(
      key: string,
      input: FlagReplacement,
      ifMatch: string | undefined,
      actor: Principal,
      credential: Credential,
    ): Promise<Flag> {
      const current = await load(key);
      assertIfMatch(current.version, ifMatch, 'flag');
      assertActive(current);
      const changed = changedFields(input, current, fixedFields);
      if (changed.length > 0) invalid(changed, 'The flag cannot be changed that way');
      const variants =
        input.variants ?? (input.type === current.type ? current.variants : input.type === 'boolean' ? defaultBooleanVariants : []);
      const variantIssues = variantProblems(input.type, variants);
      if (variantIssues.length > 0) invalid(variantIssues);
      const keys = new Set(variants.map((v) => v.key));
      const inUse = Object.entries(current.environments).flatMap(([env, state]) =>
        variantsUsedBy(state)
          .filter((v) => !keys.has(v))
          .map((v) => `"${v}" (${env})`),
      );
      if (inUse.length > 0)
        throw new AppError(
          'CONFLICT',
          `Variants still in use by an environment: ${[...new Set(inUse)].join(', ')}; change those environments first`,
        );
      // Other flags and targeting rules can only be broken by a variant this change removes: ask only then.
      const removed = new Set(current.variants.filter((v) => !keys.has(v.key)).map((v) => v.key));
      if (removed.size > 0) {
        const broken = brokenDependents(current, await store.prerequisiteEdges(), variants);
        if (broken.length > 0) throw new AppError('CONFLICT', `Other flags need a variant this change removes: ${broken.join(', ')}`);
        // Rules live in the targeting service: a rule serving a removed variant would answer its users the SDK
        // default with reason ERROR. Targeting not answering is a 503 (never "no rules").
        const serving = rulesServing(await targeting.listRulesOfFlag(key, credential), removed);
        if (serving.length > 0) {
          throw new AppError(
            'CONFLICT',
            `Rules still serve a variant this change removes; change or delete them first. ${serving.join('; ')}`,
            {
              errors: serving.map((message) => ({ path: 'body/variants', message })),
            },
          );
        }
      }
      const next: Flag = {
        ...current,
        name: input.name,
        description: input.description ?? '',
        tags: [...new Set(input.tags ?? [])],
        type: input.type,
        variants,
        clientVisible: input.clientVisible ?? current.clientVisible,
        version: current.version + 1,
        updatedAt: now(),
      };
      settle(await store.update(next, current.version, writeRecord('updated', current, next, actor)), key);
      return next;
    },

    async updateEnvironment(
      key: string,
      environment: string,
      patch: EnvironmentPatch,
      ifMatch: string | undefined,
      actor: Principal,
    ): Promise<Flag> {
      await assertEnvironment(environment);
      await assertUnprotected(environment, 'change its state');
      const current = await load(key);
      assertIfMatch(current.version, ifMatch, 'flag');
      const next = await planEnvironmentChange(current, environment, patch);
      settle(await store.update(next, current.version, environmentWrite(current, next, actor, environment)), key);
      return next;
    },

    /**
     * Copies the whole state of `from` onto `environment` (promote staging → production): its state here (enabled,
     * off variant, default serve, prerequisites) and its targeting rules there. The change is checked first as a
     * PATCH of all four fields would be (400, 409 archived, 412 stale: nothing asked, nothing written); then targeting
     * replaces the rules (its refusal or silence is passed on, nothing written here); then the state is written with
     * one audit entry, cause `{ copiedFrom }`. Only a change of the flag between the two writes can split them: that
     * 409 says the rules were copied already (targeting's history records it) and the copy may simply be made again.
     */
    async copyEnvironment(
      key: string,
      environment: string,
      from: string,
      ifMatch: string | undefined,
      actor: Principal,
      credential: Credential,
    ): Promise<Flag> {
      await assertEnvironment(environment);
      await assertUnprotected(environment, 'copy another environment’s state into it');
      const known = await environmentKeys();
      if (!known.includes(from))
        invalid([{ path: 'body/from', message: `is not an environment (known: ${known.join(', ')})` }], 'The copy is not valid');
      if (from === environment)
        invalid([{ path: 'body/from', message: `is the environment copied to ("${environment}")` }], 'The copy is not valid');
      const current = await load(key);
      assertIfMatch(current.version, ifMatch, 'flag');
      const next = await planEnvironmentChange(current, environment, { ...current.environments[from]! });
      await targeting.copyRules({ flagKey: key, from, to: environment }, credential);
      const outcome = await store.update(next, current.version, environmentWrite(current, next, actor, environment, { copiedFrom: from }));
      if (outcome !== 'ok') {
        const already = `The targeting rules of ${from} were already copied to ${environment} (targeting's history records it), but ${environment}'s state was not written`;
        if (outcome === 'stale')
          throw new AppError('CONFLICT', `${already}: "${key}" was changed by someone else at the same moment; reload it and copy again`);
        throw new AppError('NOT_FOUND', `${already}: no flag "${key}" any more`);
      }
      return next;
    },

    planEnvironmentChange,
    environmentWrite,
    assertEnvironment,
    assertUnprotected,
    assertActive,

    /**
     * Archives the flag (DELETE /flags/{key}): it keeps its row, history and rules but leaves evaluation (the outbox
     * change removes it from the shared cache and every replica). Refused while an active flag has it as a
     * prerequisite. Its pending schedules are cancelled and its active release plans paused, in the same transaction.
     */
    async archive(key: string, ifMatch: string | undefined, actor: Principal): Promise<Flag> {
      const current = await load(key);
      assertIfMatch(current.version, ifMatch, 'flag');
      if (current.archivedAt) throw new AppError('CONFLICT', `"${key}" is already archived (${archivedWhen(current)})`);
      const dependents = brokenDependents(current, await store.prerequisiteEdges(), undefined, true);
      if (dependents.length > 0)
        throw new AppError(
          'CONFLICT',
          `Other flags have "${key}" as a prerequisite: ${dependents.join(', ')}; remove it from them (or archive them) first`,
        );
      const at = now();
      const by = { userId: actor.userId, email: actor.email };
      const next: Flag = { ...current, archivedAt: at, archivedBy: by, version: current.version + 1, updatedAt: at };
      const closing = { at, actor: by, outcome: `the flag was archived by ${actor.email}` };
      settle(await store.archive(next, current.version, writeRecord('archived', current, next, actor), closing), key);
      return next;
    },

    /**
     * Brings an archived flag back exactly as it was (every environment's state, its rules): it is evaluated again as
     * soon as the change is published. Refused while a prerequisite it names is archived or no longer fits.
     */
    async restore(key: string, ifMatch: string | undefined, actor: Principal): Promise<Flag> {
      const current = await load(key);
      assertIfMatch(current.version, ifMatch, 'flag');
      if (!current.archivedAt) throw new AppError('CONFLICT', `"${key}" is not archived`);
      const next: Flag = { ...current, archivedAt: null, archivedBy: null, version: current.version + 1, updatedAt: now() };
      const edges = await store.prerequisiteEdges();
      const problems: FieldProblem[] = [];
      for (const env of await environmentKeys())
        problems.push(...(await stateProblems(next, env, next.environments[env]!, `environments/${env}`, edges)));
      if (problems.length > 0)
        throw new AppError('CONFLICT', `"${key}" cannot come back as it was: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, {
          errors: problems,
        });
      settle(await store.update(next, current.version, writeRecord('restored', current, next, actor)), key);
      return next;
    },

    /**
     * Removes an archived flag for good (admins): its targeting rules first (through the targeting service, with the
     * caller's credential: a flag made later with the same key must not inherit them), then its row. Its audit
     * trail stays, ending with 'purged'. Refused for an active flag, and while another flag (archived ones too, as
     * they may be restored) has it as a prerequisite.
     */
    async purge(key: string, ifMatch: string | undefined, actor: Principal, credential: Credential): Promise<void> {
      const current = await load(key);
      assertIfMatch(current.version, ifMatch, 'flag');
      if (!current.archivedAt) throw new AppError('CONFLICT', `"${key}" is active: archive it (DELETE /flags/${key}) before purging it`);
      const dependents = brokenDependents(current, await store.prerequisiteEdges());
      if (dependents.length > 0) throw new AppError('CONFLICT', `Other flags have "${key}" as a prerequisite: ${dependents.join(', ')}`);
      // Targeting not answering is a 503 with the flag still archived: purging again finishes the job.
      for (const rule of await targeting.listRulesOfFlag(key, credential)) await targeting.deleteRule(rule.id, credential);
      settle(await store.delete(key, current.version, writeRecord('purged', current, null, actor)), key);
    },

    /** The audit trail, newest first; it outlives the flag, so a purged flag's history stays readable. */
    async history(key: string, options: { limit: number; before?: number | undefined }) {
      const page = await store.history(key, options);
      if (page.items.length === 0 && options.before === undefined)
        throw new AppError('NOT_FOUND', `No flag "${key}" and no history of one`);
      return page;
    },
  };
}

export type FlagService = ReturnType<typeof createFlagService>;
