import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { diff, type Change } from '../../shared/audit/diff.ts';
import type { FlagsClient } from '../../shared/clients/flags-client.ts';
import type { Credential } from '../../shared/clients/service-client.ts';
import { jsonValueProblem, serveProblems, type FieldProblem, type FlagDocument, type Serve } from '../../shared/contracts/flag-model.ts';
import { projectOf } from '../../shared/contracts/project-model.ts';
import { segmentKeysOf, type Condition, type RuleSpec } from '../../shared/contracts/targeting-model.ts';
import type { EvaluationContext } from '../../shared/contracts/evaluation-model.ts';
import {
  compileFlag,
  CompiledFlags,
  compileSegment,
  conditionProblems,
  explainFlag,
  type CompiledEnvironment,
} from '../../shared/engine/index.ts';
import type { Principal } from '../../shared/http/authenticate.ts';
import { AppError } from '../../shared/http/problem.ts';
import { assertIfMatch } from '../../shared/http/if-match.ts';
import { changedFields } from '../../shared/http/schemas.ts';
import { maxSegmentKeys, segmentView } from './targeting-schemas.ts';
import type {
  NewTargetingAuditEntry,
  SegmentHead,
  SegmentKeyChanges,
  StoredRule,
  StoredSegment,
  TargetingStore,
  TargetingWrite,
} from './targeting-store.ts';

/** How long after a change request of rules is applied targeting takes it as the approval to set them. */
const approvalWindowMs = 60_000;

export interface RuleInput {
  name?: string | undefined;
  conditions: Condition[];
  segments?: string[] | undefined;
  serve: Serve;
}

/** A PUT may also send back what GET answered; of that, only these must be as stored (the rest is ignored). */
export interface RuleReplacement extends RuleInput {
  id?: string | undefined;
  flagKey?: string | undefined;
  environment?: string | undefined;
}

const fixedRuleFields = {
  id: 'it names the rule',
  flagKey: 'a rule belongs to one flag; create one for the other flag instead',
  environment: 'a rule belongs to one environment; create one in the other environment instead',
};

export interface NewRule extends RuleInput {
  flagKey: string;
  environment: string;
  /** Where the rule goes: 0 is first. Absent: after the existing rules. */
  priority?: number | undefined;
}

export interface SegmentReplacement extends SegmentInput {
  key?: string | undefined;
}

const fixedSegmentFields = {
  key: 'rules name the segment by its key; create a new segment instead',
  project: 'a segment stays in its project; create one in the other project instead',
};

export interface SegmentInput {
  name: string;
  description?: string | undefined;
  conditions?: Condition[] | undefined;
  included?: string[] | undefined;
  excluded?: string[] | undefined;
}

function invalid(problems: FieldProblem[], summary: string): never {
  throw new AppError('VALIDATION_FAILED', `${summary}: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, { errors: problems });
}

/**
 * A segment as the history records an update of it: its key lists by their sizes, the keys added and removed being
 * the entry's changes (keyChanges). Lists of 100,000 keys written whole, before and after, into every entry
 * would make a one-key change a write of megabytes; the entry that created the segment holds its lists, so every
 * state it had can still be told.
 */
function segmentUpdateDocument(segment: StoredSegment) {
  const { included, excluded, ...rest } = segmentView(segment);
  return { ...rest, includedCount: included.length, excludedCount: excluded.length };
}

/** A segment as the history records an update of it, from what a change of keys reads (the same document). */
function headDocument({ createdAt, updatedAt, includedCount, excludedCount, ...rest }: SegmentHead) {
  return { ...rest, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString(), includedCount, excludedCount };
}

/** The keys a list gained and lost. */
function listDiff(before: readonly string[], after: ReadonlySet<string>) {
  const was = new Set(before);
  return { added: [...after].filter((key) => !was.has(key)), removed: before.filter((key) => !after.has(key)) };
}

/** The keys added to and removed from a segment's list, as changes `/<list>/added` and `/<list>/removed`. */
function keyChanges(list: 'included' | 'excluded', added: string[], removed: string[]): Change[] {
  return [
    ...(added.length > 0 ? [{ path: `/${list}/added`, before: null, after: added }] : []),
    ...(removed.length > 0 ? [{ path: `/${list}/removed`, before: removed, after: null }] : []),
  ];
}

export interface KeyListChange {
  add?: string[] | undefined;
  remove?: string[] | undefined;
}

const ruleDocument = ({ createdAt, updatedAt, ...rule }: StoredRule) => ({
  ...rule,
  createdAt: createdAt.toISOString(),
  updatedAt: updatedAt.toISOString(),
});

export function createTargetingService(deps: { store: TargetingStore; flags: FlagsClient; now?: () => Date }) {
  const { store, flags } = deps;
  const now = deps.now ?? (() => new Date());

  function audit(
    entity: 'rule' | 'segment',
    key: string,
    action: NewTargetingAuditEntry['action'],
    actor: Principal,
    before: unknown,
    after: unknown,
    scope: { project: string; flagKey?: string; environment?: string },
    /** Changes the documents do not show (a segment's keys added and removed). */
    more: Change[] = [],
  ): NewTargetingAuditEntry {
    const strip = (doc: unknown) => (doc && typeof doc === 'object' ? { ...doc, updatedAt: undefined, version: undefined } : doc);
    return {
      entity,
      entityKey: key,
      flagKey: scope.flagKey ?? null,
      environment: scope.environment ?? null,
      project: scope.project,
      action,
      actor: { userId: actor.userId, email: actor.email },
      at: now(),
      before: before ?? null,
      after: after ?? null,
      changes: [...diff(strip(before), strip(after)), ...more],
    };
  }

  const rulesChanged = (flagKey: string, environment: string) => ({ kind: 'rules', flagKey, environment }) as const;
  const segmentChanged = (key: string) => ({ kind: 'segment', key }) as const;

  /**
   * The flag, if it exists in `project` (the one the route authorised the caller in; undefined: there was no flag
   * then), is not archived and has each environment named (by field: `{ environment }`, or `{ from, to }`).
   */
  async function flagFor(
    flagKey: string,
    environment: string | Record<string, string>,
    credential: Credential,
    project: string | undefined,
    path = 'body',
  ): Promise<FlagDocument> {
    const problems: FieldProblem[] = [];
    const found = await flags.getFlag(flagKey, credential);
    // One that appeared (or changed hands) since the caller was authorised is not there for them.
    const flag = found && projectOf(found) === project ? found : undefined;
    const named = Object.entries(typeof environment === 'string' ? { environment } : environment);
    const unknown = flag ? named.filter(([, env]) => !(env in flag.environments)) : [];
    if (!flag) problems.push({ path: `${path}/flagKey`, message: `names no flag ("${flagKey}")` });
    // The flags service owns the environments: a flag has a state in each one there is.
    else if (unknown.length > 0) {
      const known = Object.keys(flag.environments).join(', ');
      for (const [field] of unknown) problems.push({ path: `${path}/${field}`, message: `is not an environment (known: ${known})` });
    }
    // An archived flag is unknown to evaluation and cannot change until it is restored: nor can its rules.
    else if (flag.archivedAt)
      problems.push({ path: `${path}/flagKey`, message: `names an archived flag ("${flagKey}"): restore it first` });
    if (problems.length > 0 || !flag) invalid(problems, 'The rule does not fit');
    return flag;
  }

  /**
   * Rules in a protected environment change only as an approved change request applies (the flags service calls
   * setRules naming it); any other write there is refused, 409 CHANGE_REQUEST_REQUIRED. An archived flag's rules go
   * with its purge. `approval`: the request named and the rules it is asked to set — they must be the ones it approved,
   * and it must have been applied just now (a request replayed later could undo what came after it).
   */
  async function assertRulesChangeable(
    flag: FlagDocument,
    environment: string,
    credential: Credential,
    approval?: { changeRequestId: string; rules: RuleSpec[] },
  ): Promise<void> {
    if (flag.archivedAt) return;
    const settings = (await flags.environments(credential)).find((e) => e.key === environment);
    if (!settings?.protected) return;
    if (!approval)
      throw new AppError(
        'CHANGE_REQUEST_REQUIRED',
        `"${environment}" is protected: propose rule changes there as a change request (POST /flags/${flag.key}/environments/${environment}/change-requests with "rules")`,
      );
    const request = await flags.getChangeRequest(approval.changeRequestId, credential);
    const approves =
      request?.kind === 'rules' &&
      request.status === 'applied' &&
      request.flagKey === flag.key &&
      request.environment === environment &&
      request.closedAt !== null &&
      now().getTime() - Date.parse(request.closedAt) < approvalWindowMs &&
      isDeepStrictEqual(request.rules, approval.rules);
    if (!approves)
      throw new AppError('CHANGE_REQUEST_REQUIRED', `Change request ${approval.changeRequestId} does not approve setting these rules now`);
  }

  /**
   * Replaces a flag's rules in one environment with these, in this order (new ids, priorities from 0): one
   * transaction, an audit entry per rule removed ('deleted') and per rule written ('created'), one change to publish.
   */
  async function replaceRulesWith(scope: { flagKey: string; environment: string; project: string }, specs: RuleSpec[], actor: Principal) {
    const replaced = await ordered(scope.flagKey, scope.environment);
    const at = now();
    const rules: StoredRule[] = specs.map((rule, priority) => ({
      id: randomUUID(),
      flagKey: scope.flagKey,
      environment: scope.environment,
      priority,
      name: rule.name ?? '',
      conditions: rule.conditions,
      segments: [...new Set(rule.segments ?? [])],
      serve: rule.serve,
      createdAt: at,
      updatedAt: at,
    }));
    await store.replaceRules({ flagKey: scope.flagKey, environment: scope.environment }, rules, {
      audit: [
        ...replaced.map((rule) => audit('rule', rule.id, 'deleted', actor, ruleDocument(rule), null, scope)),
        ...rules.map((rule) => audit('rule', rule.id, 'created', actor, null, ruleDocument(rule), scope)),
      ],
      change: rulesChanged(scope.flagKey, scope.environment),
    });
    return rules.map(ruleDocument);
  }

  /** A rule may use only segments of its flag's project (keys are unique across projects: one elsewhere is named so). */
  async function segmentsProblems(keys: string[], project: string, path: string): Promise<FieldProblem[]> {
    const projects = new Map((await store.getSegments(keys)).map((s) => [s.key, s.project]));
    return [...new Set(keys)].flatMap((k) => {
      const owner = projects.get(k);
      if (owner === project) return [];
      if (owner === undefined) return [{ path, message: `names no segment ("${k}")` }];
      return [
        { path, message: `names a segment of another project ("${k}"): a rule uses only segments of its flag's project ("${project}")` },
      ];
    });
  }

  async function ruleProblems(input: RuleInput, flag: FlagDocument): Promise<FieldProblem[]> {
    const problems = input.conditions.flatMap((condition, i) => conditionProblems(condition, `body/conditions/${i}`));
    problems.push(...serveProblems(input.serve, new Set(flag.variants.map((v) => v.key)), 'body/serve'));
    const keys = [...(input.segments ?? []), ...segmentKeysOf(input.conditions)];
    problems.push(...(await segmentsProblems(keys, projectOf(flag), 'body/segments')));
    return problems;
  }

  /** Rules of one flag in one environment, in order, renumbered 0…n-1 so priorities stay dense. */
  async function ordered(flagKey: string, environment: string): Promise<StoredRule[]> {
    return store.listRules({ flagKey, environment });
  }

  function renumber(rules: StoredRule[], at: Date): StoredRule[] {
    return rules.flatMap((rule, priority) => (rule.priority === priority ? [] : [{ ...rule, priority, updatedAt: at }]));
  }

  async function loadRule(id: string): Promise<StoredRule> {
    const rule = await store.getRule(id);
    if (!rule) throw new AppError('NOT_FOUND', `No rule ${id}`);
    return rule;
  }

  /**
   * Writes a segment's new version (if it is still at the one read) with its history entry, which names the keys
   * added and removed, and its change.
   */
  async function writeSegment(
    current: StoredSegment,
    next: StoredSegment,
    actor: Principal,
    keys: SegmentKeyChanges,
  ): Promise<StoredSegment> {
    const { key, project } = current;
    const listChanges = (['included', 'excluded'] as const).flatMap((list) => keyChanges(list, keys[list].added, keys[list].removed));
    const write = {
      audit: [
        audit('segment', key, 'updated', actor, segmentUpdateDocument(current), segmentUpdateDocument(next), { project }, listChanges),
      ],
      change: segmentChanged(key),
    };
    const outcome = await store.updateSegment(next, current.version, write, keys);
    if (outcome === 'stale')
      throw new AppError('CONFLICT', `"${key}" was changed by someone else at the same moment; reload it and try again`);
    if (outcome === 'not-found') throw new AppError('NOT_FOUND', `No segment "${key}"`);
    return next;
  }

  async function loadSegment(key: string): Promise<StoredSegment> {
    const segment = await store.getSegment(key);
    if (!segment) throw new AppError('NOT_FOUND', `No segment "${key}"`);
    return segment;
  }

  function segmentProblems(input: SegmentInput): FieldProblem[] {
    const problems = (input.conditions ?? []).flatMap((condition, i) => conditionProblems(condition, `body/conditions/${i}`));
    (input.conditions ?? []).forEach((c, i) => {
      if (c.operator === 'in_segment' || c.operator === 'not_in_segment')
        problems.push({ path: `body/conditions/${i}/operator`, message: 'segments cannot refer to segments' });
    });
    return problems;
  }

  /**
   * Where the guards find a request's project (undefined: not there). A flag's is the flags service's answer, asked
   * with the caller's credential: a flag it will not show them is in a project they have no role in.
   */
  async function projectOfFlag(flagKey: string, credential: Credential): Promise<string | undefined> {
    const flag = await flags.getFlag(flagKey, credential).catch((error: unknown) => {
      // No more than the flags service said: neither the project nor the flag is named to someone outside it.
      if (error instanceof AppError && error.code === 'FORBIDDEN')
        throw new AppError('FORBIDDEN', "You have no role in the flag's project");
      throw error;
    });
    return flag && projectOf(flag);
  }

  async function projectOfSegment(key: string): Promise<string | undefined> {
    return (await store.getSegment(key))?.project;
  }

  return {
    async listRules(filter: { flagKey?: string | undefined; environment?: string | undefined }) {
      return (await store.listRules(filter)).map(ruleDocument);
    },

    async getRule(id: string) {
      return ruleDocument(await loadRule(id));
    },

    async createRule(input: NewRule, credential: Credential, actor: Principal, project: string | undefined) {
      const flag = await flagFor(input.flagKey, input.environment, credential, project);
      const problems = await ruleProblems(input, flag);
      if (problems.length > 0) invalid(problems, 'The rule is not valid');
      await assertRulesChangeable(flag, input.environment, credential);
      const at = now();
      const existing = await ordered(input.flagKey, input.environment);
      const position = Math.min(input.priority ?? existing.length, existing.length);
      const rule: StoredRule = {
        id: randomUUID(),
        flagKey: input.flagKey,
        environment: input.environment,
        priority: position,
        name: input.name ?? '',
        conditions: input.conditions,
        segments: [...new Set(input.segments ?? [])],
        serve: input.serve,
        createdAt: at,
        updatedAt: at,
      };
      const next = [...existing.slice(0, position), rule, ...existing.slice(position)];
      const moved = renumber(next, at).filter((r) => r.id !== rule.id);
      const write: TargetingWrite = {
        audit: [audit('rule', rule.id, 'created', actor, null, ruleDocument(rule), { ...input, project: projectOf(flag) })],
        change: rulesChanged(input.flagKey, input.environment),
      };
      await store.saveRules([rule, ...moved], write);
      return ruleDocument(rule);
    },

    async updateRule(id: string, input: RuleReplacement, credential: Credential, actor: Principal, project: string) {
      const current = await loadRule(id);
      const changed = changedFields(input, current, fixedRuleFields);
      if (changed.length > 0) invalid(changed, 'The rule cannot be changed that way');
      const flag = await flagFor(current.flagKey, current.environment, credential, project);
      const problems = await ruleProblems(input, flag);
      if (problems.length > 0) invalid(problems, 'The rule is not valid');
      await assertRulesChangeable(flag, current.environment, credential);
      const next: StoredRule = {
        ...current,
        name: input.name ?? '',
        conditions: input.conditions,
        segments: [...new Set(input.segments ?? [])],
        serve: input.serve,
        updatedAt: now(),
      };
      await store.saveRules([next], {
        audit: [audit('rule', id, 'updated', actor, ruleDocument(current), ruleDocument(next), { ...current, project })],
        change: rulesChanged(current.flagKey, current.environment),
      });
      return ruleDocument(next);
    },

    async deleteRule(id: string, credential: Credential, actor: Principal, project: string) {
      const current = await loadRule(id);
      const flag = await flags.getFlag(current.flagKey, credential);
      if (flag) await assertRulesChangeable(flag, current.environment, credential);
      const write = {
        audit: [audit('rule', id, 'deleted', actor, ruleDocument(current), null, { ...current, project })],
        change: rulesChanged(current.flagKey, current.environment),
      };
      if (!(await store.deleteRule(id, write))) throw new AppError('NOT_FOUND', `No rule ${id}`);
      const rest = await ordered(current.flagKey, current.environment);
      const moved = renumber(rest, now());
      if (moved.length > 0) await store.saveRules(moved, { audit: [], change: rulesChanged(current.flagKey, current.environment) });
    },

    /**
     * Replaces the rules of a flag in `to` with copies of those in `from` (same order and priorities, new ids): one
     * transaction with an audit entry per rule removed ('deleted') and per copy ('created') and one change to publish.
     * The flags service asks this when it copies an environment's state (POST /flags/{key}/environments/{env}/copy).
     */
    async copyRules(
      input: { flagKey: string; from: string; to: string },
      credential: Credential,
      actor: Principal,
      project: string | undefined,
    ) {
      if (input.from === input.to)
        invalid([{ path: 'body/to', message: `is the environment copied from ("${input.from}")` }], 'The copy is not valid');
      const flag = await flagFor(input.flagKey, { from: input.from, to: input.to }, credential, project);
      await assertRulesChangeable(flag, input.to, credential);
      const scope = { flagKey: input.flagKey, environment: input.to, project: projectOf(flag) };
      return replaceRulesWith(scope, await ordered(input.flagKey, input.from), actor);
    },

    /**
     * Sets a flag's rules in one environment to exactly these, in this order (new ids): one transaction, an audit entry
     * per rule removed and per rule set, one change to publish. How an approved change request of `rules` applies
     * (`changeRequestId`: what a protected environment requires).
     */
    async setRules(
      input: { flagKey: string; environment: string; rules: RuleSpec[]; changeRequestId?: string | undefined },
      credential: Credential,
      actor: Principal,
      project: string | undefined,
    ) {
      const flag = await flagFor(input.flagKey, input.environment, credential, project);
      const problems: FieldProblem[] = [];
      for (const [index, rule] of input.rules.entries())
        problems.push(...(await ruleProblems(rule, flag)).map((p) => ({ ...p, path: p.path.replace(/^body/, `body/rules/${index}`) })));
      if (problems.length > 0) invalid(problems, 'The rules are not valid');
      await assertRulesChangeable(
        flag,
        input.environment,
        credential,
        input.changeRequestId === undefined ? undefined : { changeRequestId: input.changeRequestId, rules: input.rules },
      );
      return replaceRulesWith({ flagKey: input.flagKey, environment: input.environment, project: projectOf(flag) }, input.rules, actor);
    },

    /** Puts the rules of one flag in one environment in the given order; the list must name each of them once. */
    async reorderRules(
      input: { flagKey: string; environment: string; ruleIds: string[] },
      credential: Credential,
      actor: Principal,
      project: string | undefined,
    ) {
      // Archived flags' rules may be reordered (not written): the flag need only be there, in the project authorised.
      const found = await flags.getFlag(input.flagKey, credential);
      const flag = found && projectOf(found) === project ? found : undefined;
      if (!flag) invalid([{ path: 'body/flagKey', message: `names no flag ("${input.flagKey}")` }], 'The order is not valid');
      await assertRulesChangeable(flag, input.environment, credential);
      const existing = await ordered(input.flagKey, input.environment);
      const byId = new Map(existing.map((r) => [r.id, r]));
      const sameSet =
        input.ruleIds.length === existing.length &&
        new Set(input.ruleIds).size === existing.length &&
        input.ruleIds.every((id) => byId.has(id));
      if (!sameSet) {
        invalid(
          [
            {
              path: 'body/ruleIds',
              message: `must list each of the ${existing.length} rule(s) of "${input.flagKey}" in ${input.environment} exactly once`,
            },
          ],
          'The order is not valid',
        );
      }
      const at = now();
      const next = input.ruleIds.map((id) => byId.get(id)!);
      const moved = renumber(next, at);
      const before = existing.map((r) => r.id);
      const scope = { flagKey: input.flagKey, environment: input.environment, project: projectOf(flag) };
      await store.saveRules(moved, {
        audit: [
          audit('rule', `${input.environment}/${input.flagKey}`, 'reordered', actor, { order: before }, { order: input.ruleIds }, scope),
        ],
        change: rulesChanged(input.flagKey, input.environment),
      });
      return (await ordered(input.flagKey, input.environment)).map(ruleDocument);
    },

    async listSegments(project: string) {
      return (await store.listSegments({ project })).map(segmentView);
    },

    async getSegment(key: string) {
      return loadSegment(key);
    },

    async createSegment(input: SegmentInput & { key: string }, project: string, credential: Credential, actor: Principal) {
      // The flags service keeps the projects.
      if (!(await flags.getProject(project, credential))) throw new AppError('NOT_FOUND', `No project "${project}"`);
      const problems = segmentProblems(input);
      if (problems.length > 0) invalid(problems, 'The segment is not valid');
      const at = now();
      const segment: StoredSegment = {
        key: input.key,
        project,
        name: input.name,
        description: input.description ?? '',
        conditions: input.conditions ?? [],
        included: [...new Set(input.included ?? [])],
        excluded: [...new Set(input.excluded ?? [])],
        version: 1,
        createdAt: at,
        updatedAt: at,
      };
      const created = await store.createSegment(segment, {
        audit: [audit('segment', segment.key, 'created', actor, null, segmentView(segment), { project })],
        change: segmentChanged(segment.key),
      });
      if (!created) throw new AppError('CONFLICT', `A segment "${input.key}" already exists`);
      return segment;
    },

    async updateSegment(key: string, input: SegmentReplacement, ifMatch: string | undefined, actor: Principal) {
      const current = await loadSegment(key);
      assertIfMatch(current.version, ifMatch, 'segment');
      const changed = changedFields(input, current, fixedSegmentFields);
      if (changed.length > 0) invalid(changed, 'The segment cannot be changed that way');
      const problems = segmentProblems(input);
      if (problems.length > 0) invalid(problems, 'The segment is not valid');
      // Sets once: they drop repeated keys and tell the keys added and removed.
      const included = new Set(input.included);
      const excluded = new Set(input.excluded);
      const next: StoredSegment = {
        ...current,
        name: input.name,
        description: input.description ?? '',
        conditions: input.conditions ?? [],
        included: [...included],
        excluded: [...excluded],
        version: current.version + 1,
        updatedAt: now(),
      };
      return writeSegment(current, next, actor, {
        included: listDiff(current.included, included),
        excluded: listDiff(current.excluded, excluded),
      });
    },

    /**
     * Adds keys to and removes keys from a segment's lists (PATCH …/keys): a few keys of 100,000 sent, not all — and
     * none read: the database adds and removes them and counts the lists (reading 100,000 keys was half the request).
     */
    async changeSegmentKeys(
      key: string,
      input: { included?: KeyListChange | undefined; excluded?: KeyListChange | undefined },
      ifMatch: string | undefined,
      actor: Principal,
    ): Promise<SegmentHead> {
      const current = await store.segmentVersion(key);
      if (!current) throw new AppError('NOT_FOUND', `No segment "${key}"`);
      assertIfMatch(current.version, ifMatch, 'segment');
      const edits = {
        included: { add: input.included?.add ?? [], remove: input.included?.remove ?? [] },
        excluded: { add: input.excluded?.add ?? [], remove: input.excluded?.remove ?? [] },
      };
      const result = await store.editSegmentKeys(key, current.version, edits, {
        maxKeys: maxSegmentKeys,
        updatedAt: now(),
        describe: ({ before, after, keys }) => ({
          audit: [
            audit('segment', key, 'updated', actor, headDocument(before), headDocument(after), { project: current.project }, [
              ...keyChanges('included', keys.included.added, keys.included.removed),
              ...keyChanges('excluded', keys.excluded.added, keys.excluded.removed),
            ]),
          ],
          change: segmentChanged(key),
        }),
      });
      switch (result.outcome) {
        case 'ok':
        case 'unchanged':
          // Nothing to change: nothing written, nothing published, the same version.
          return result.segment;
        case 'too-many':
          return invalid(
            result.lists.map(({ list, size }) => ({
              path: `body/${list}/add`,
              message: `would make the list ${size} keys long: at most ${maxSegmentKeys}`,
            })),
            'The segment is not valid',
          );
        case 'stale':
          throw new AppError('CONFLICT', `"${key}" was changed by someone else at the same moment; reload it and try again`);
        case 'not-found':
          throw new AppError('NOT_FOUND', `No segment "${key}"`);
      }
    },

    async deleteSegment(key: string, ifMatch: string | undefined, actor: Principal) {
      const current = await loadSegment(key);
      assertIfMatch(current.version, ifMatch, 'segment');
      const users = await store.rulesUsingSegment(key);
      if (users.length > 0)
        throw new AppError(
          'CONFLICT',
          `Rules still use segment "${key}": ${users.map((r) => `${r.flagKey} (${r.environment})`).join(', ')}`,
        );
      const outcome = await store.deleteSegment(key, current.version, {
        audit: [audit('segment', key, 'deleted', actor, segmentView(current), null, { project: current.project })],
        change: segmentChanged(key),
      });
      if (outcome === 'stale')
        throw new AppError('CONFLICT', `"${key}" was changed by someone else at the same moment; reload it and try again`);
      if (outcome === 'not-found') throw new AppError('NOT_FOUND', `No segment "${key}"`);
    },

    /** Evaluates one flag for a context with the engine the evaluation service uses, and says which conditions held. */
    async match(
      input: { flagKey: string; environment: string; context: EvaluationContext },
      credential: Credential,
      project: string | undefined,
    ) {
      // The explanation echoes the attributes it read: a context nested past the JSON limit cannot be answered.
      const contextProblem = jsonValueProblem(input.context);
      if (contextProblem)
        throw new AppError('VALIDATION_FAILED', `The context ${contextProblem}`, {
          errors: [{ path: 'body/context', message: contextProblem }],
        });
      const flag = await flagFor(input.flagKey, input.environment, credential, project);
      const state = flag.environments[input.environment];
      if (!state) throw new AppError('NOT_FOUND', `"${input.flagKey}" has no state in ${input.environment}`);
      const rules = await store.listRules({ flagKey: input.flagKey, environment: input.environment });
      // The segments are read once the rules that name them are known (below): a project may have 10,000.
      const named = new Set<string>();
      const nameSegments = (of: StoredRule[]) => {
        for (const rule of of) for (const key of [...rule.segments, ...segmentKeysOf(rule.conditions)]) named.add(key);
      };
      nameSegments(rules);
      const env: CompiledEnvironment = {
        flags: new CompiledFlags([
          compileFlag({ key: flag.key, type: flag.type, variants: flag.variants, salt: flag.salt, version: flag.version, state, rules }),
        ]),
        segments: new Map(),
      };
      // Prerequisites are evaluated too: fetch each (recursively) so the answer is the one evaluation gives.
      const pending = [...state.prerequisites.map((p) => p.flagKey)];
      while (pending.length > 0) {
        const key = pending.pop()!;
        if (env.flags.has(key)) continue;
        const prerequisite = await flags.getFlag(key, credential);
        const prerequisiteState = prerequisite?.environments[input.environment];
        // An archived prerequisite is unknown to evaluation, as a missing one is.
        if (!prerequisite || prerequisite.archivedAt || !prerequisiteState) continue;
        const prerequisiteRules = await store.listRules({ flagKey: key, environment: input.environment });
        nameSegments(prerequisiteRules);
        env.flags.set(
          key,
          compileFlag({
            key,
            type: prerequisite.type,
            variants: prerequisite.variants,
            salt: prerequisite.salt,
            version: prerequisite.version,
            state: prerequisiteState,
            rules: prerequisiteRules,
          }),
        );
        pending.push(...prerequisiteState.prerequisites.map((p) => p.flagKey));
      }
      // Its rules use only segments of its project; a segment's own in_segment conditions (refused since, but stored
      // ones may have them) name more, read in turn.
      let wanted = [...named];
      while (wanted.length > 0) {
        const found = (await store.getSegments(wanted)).filter((segment) => segment.project === projectOf(flag));
        for (const segment of found) env.segments.set(segment.key, compileSegment(segment));
        wanted = [...new Set(found.flatMap((segment) => segmentKeysOf(segment.conditions)))].filter((key) => !env.segments.has(key));
      }
      return explainFlag(env, input.flagKey, input.context);
    },

    async history(filter: {
      project: string;
      flagKey?: string | undefined;
      segmentKey?: string | undefined;
      limit: number;
      before?: number | undefined;
    }) {
      return store.history(filter);
    },

    projectOfFlag,

    async projectOfRule(id: string, credential: Credential): Promise<string | undefined> {
      const rule = await store.getRule(id);
      return rule && projectOfFlag(rule.flagKey, credential);
    },

    projectOfSegment,

    /** A history's: the flag's or the segment's as they are, else (purged, deleted) that of the newest entry about them. */
    async projectOfHistory(about: { flagKey: string } | { segmentKey: string }, credential: Credential): Promise<string | undefined> {
      const current = 'flagKey' in about ? await projectOfFlag(about.flagKey, credential) : await projectOfSegment(about.segmentKey);
      return current ?? store.projectInHistory(about);
    },
  };
}

export type TargetingService = ReturnType<typeof createTargetingService>;
