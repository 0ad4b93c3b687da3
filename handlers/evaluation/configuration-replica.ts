import { hash } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { ConfigCache } from '../../shared/propagation/config-cache.ts';
import type { PublishedChange } from '../../shared/propagation/config-change.ts';
import { createConfigurationVersions, versionOf, type ConfigurationVersions } from './configuration-versions.ts';
import { followChanges, type ChangeFollower } from '../../shared/propagation/follow-changes.ts';
import type { FlagConfiguration } from '../../shared/contracts/evaluation-model.ts';
import type { FlagDocument } from '../../shared/contracts/flag-model.ts';
import type { Rule, Segment } from '../../shared/contracts/targeting-model.ts';
import {
  compileFlag,
  CompiledFlags,
  compileSegment,
  recompileSegment,
  type CompiledEnvironment,
  type CompiledSegment,
} from '../../shared/engine/index.ts';
import { AppError } from '../../shared/http/problem.ts';
import { defaultProject, projectOf } from '../../shared/contracts/project-model.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { releaseMemorySoon } from '../../shared/runtime/release-startup-memory.ts';

/**
 * What recompiling a flag of one environment needs besides its rules (which a change re-reads from the cache):
 * not the whole document (name, description, tags, every environment's state). Its project is always named.
 */
type FlagInput = Omit<FlagConfiguration, 'rules' | 'project'> & { project: string };

interface EnvironmentCopy {
  compiled: CompiledEnvironment;
  inputs: Map<string, FlagInput>;
  /** Grows with every change to this copy: a project's configuration document is made again only after one. */
  revision: number;
  /** Each project's configuration document, as last made. */
  documents: Map<string, { revision: number; segmentsRevision: number; value: ConfigurationDocument }>;
}

/** A project's configuration in an environment as one JSON document (in-process SDKs compile it), and its ETag. */
export interface ConfigurationDocument {
  json: string;
  etag: string;
}

/** Flags read from the cache per round trip while loading: a bounded batch, so loading does not swell the heap. */
const loadChunk = 500;
/** How long after a whole environment was (re)loaded the memory-reducing collection runs. */
const loadSettleMs = 200;

function inputOf(document: FlagDocument, environment: string): FlagInput | undefined {
  const state = document.environments[environment];
  if (!state) return undefined;
  // A document published before flags had the setting has none: not client-visible.
  const clientVisible = document.clientVisible === true;
  return {
    key: document.key,
    type: document.type,
    variants: document.variants,
    salt: document.salt,
    version: document.version,
    clientVisible,
    project: projectOf(document),
    state,
  };
}

export interface ConfigurationReplica {
  /**
   * The compiled configuration of an environment: from memory, else from the shared cache (which the owning
   * services keep complete); a 503 while the cache cannot give a complete copy (not seeded yet, unreachable).
   */
  environment(name: string): CompiledEnvironment | Promise<CompiledEnvironment>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True while a change could not be applied (the cache is unreachable): answers may be stale until it is. */
  readonly behind: boolean;
  /** Which configuration each environment is at, and who hears when it moves (the OFREP event streams). */
  readonly versions: ConfigurationVersions;
  /**
   * A project's configuration in the environment as published (its flags with their rules, the segments those
   * rules use), for in-process SDKs.
   */
  document(name: string, project: string): Promise<ConfigurationDocument>;
}

/** Whether two inputs compile to the same answers (the flag's version grows with any edit, a description's too). */
const sameAnswers = (a: FlagInput | undefined, b: FlagInput | undefined) =>
  JSON.stringify(a && { ...a, version: 0 }) === JSON.stringify(b && { ...b, version: 0 });

/**
 * This instance's copy of the configuration. Evaluation answers from it without any I/O; the owning services'
 * relays tell it what changed through the configuration cache, and it recompiles just that flag or segment.
 */
export function createConfigurationReplica(deps: {
  cache: ConfigCache;
  logger: Logger;
  metrics: Registry;
  retryMs?: number;
}): ConfigurationReplica {
  const { cache, logger } = deps;
  const environments = new Map<string, EnvironmentCopy>();
  const loading = new Map<string, Promise<CompiledEnvironment>>();
  // Segments do not depend on the environment: one compiled map serves every environment.
  const segments = new Map<string, CompiledSegment>();
  const segmentSources = new Map<string, Segment>();
  let segmentsRevision = 0;
  let segmentsLoaded = false;
  const versions = createConfigurationVersions();
  // Hears the changes and applies them one after another; a load that overlapped one reads again (`heard`).
  let follower: ChangeFollower | undefined;

  function compileInto(copy: EnvironmentCopy, key: string, rules: Rule[]): void {
    const input = copy.inputs.get(key);
    if (input) {
      copy.compiled.flags.set(key, compileFlag({ ...input, rules }));
    } else {
      copy.compiled.flags.delete(key);
    }
    copy.revision += 1;
  }

  function putSegment(key: string, segment: Segment | undefined): void {
    if (segment) {
      const previous = segments.get(key);
      const previousSource = segmentSources.get(key);
      // A change of a few keys of a big segment changes those keys in its sets instead of building new ones.
      segments.set(key, previous && previousSource ? recompileSegment(previous, previousSource, segment) : compileSegment(segment));
      segmentSources.set(key, segment);
    } else {
      segments.delete(key);
      segmentSources.delete(key);
    }
    segmentsRevision += 1;
  }

  function emptyCopy(segmentList: Segment[] | undefined): EnvironmentCopy {
    if (segmentList) {
      segments.clear();
      segmentSources.clear();
      for (const segment of segmentList) putSegment(segment.key, segment);
      segmentsLoaded = true;
    }
    return { compiled: { flags: new CompiledFlags(), segments }, inputs: new Map(), revision: 0, documents: new Map() };
  }

  /** Adds flags to a copy being built, each with its rules (`ruleLists[i]` belongs to `documents[i]`). */
  function addFlags(
    copy: EnvironmentCopy,
    environment: string,
    documents: readonly (FlagDocument | undefined)[],
    ruleLists: readonly Rule[][],
  ): void {
    documents.forEach((document, index) => {
      const input = document && inputOf(document, environment);
      if (!input) return;
      copy.inputs.set(input.key, input);
      compileInto(copy, input.key, ruleLists[index] ?? []);
    });
  }

  async function cacheIsComplete(): Promise<boolean> {
    const [flags, targeting] = await Promise.all([cache.isSeeded('flags'), cache.isSeeded('targeting')]);
    return flags && targeting;
  }

  async function fromCache(environment: string, withSegments: boolean): Promise<EnvironmentCopy | undefined> {
    if (!(await cacheIsComplete())) return undefined;
    const [keys, segmentList] = await Promise.all([cache.flagKeys(), withSegments ? cache.getSegments() : undefined]);
    const copy = emptyCopy(segmentList);
    for (let i = 0; i < keys.length; i += loadChunk) {
      const chunk = keys.slice(i, i + loadChunk);
      const [documents, ruleLists] = await Promise.all([cache.getFlags(chunk), cache.getRules(environment, chunk)]);
      addFlags(copy, environment, documents, ruleLists);
    }
    return copy;
  }

  async function load(environment: string): Promise<CompiledEnvironment> {
    const heardBefore = follower?.heard;
    let copy: EnvironmentCopy | undefined;
    try {
      copy = await fromCache(environment, !segmentsLoaded);
    } catch (error) {
      logger.warn({ err: error, environment }, 'configuration cache unreachable; the environment cannot be loaded yet');
    }
    // Not "no flags": the owners have not (re)seeded the cache yet, or it is away. The caller may retry.
    if (!copy)
      throw new AppError('SERVICE_UNAVAILABLE', `The configuration of "${environment}" is not loaded yet; retry shortly`, {
        headers: { 'retry-after': '1' },
      });
    environments.set(environment, copy);
    // Loading read and parsed the whole environment: V8 keeps the pages that held it (about as much again as the
    // compiled copy) until a collection that gives memory back; one follows shortly, not on a request's path.
    releaseMemorySoon(loadSettleMs);
    if (follower && follower.heard !== heardBefore) void follower.serially(reloadAll);
    return copy.compiled;
  }

  /** Applies a change and moves the environments whose answers it may change to its version (for its project's callers). */
  async function apply(change: PublishedChange): Promise<void> {
    if (change.kind === 'reseeded') return reloadAll();
    const { changed, project } = await applyToCopies(change);
    versions.applied(versionOf(change), changed, project);
  }

  /** The environments whose answers the change may alter, and the project whose flags it concerns (undefined: any). */
  async function applyToCopies(
    change: Exclude<PublishedChange, { kind: 'reseeded' }>,
  ): Promise<{ changed: string[]; project?: string | undefined }> {
    switch (change.kind) {
      case 'flag': {
        const [document] = await cache.getFlags([change.key]);
        const changed: string[] = [];
        // The project whose callers hear of it: the flag's, before and after (fixed at creation; were it ever not,
        // every project's callers would hear).
        const projects = new Set<string>(document ? [projectOf(document)] : []);
        for (const [environment, copy] of environments) {
          const input = document && inputOf(document, environment);
          const before = copy.inputs.get(change.key);
          if (before) projects.add(before.project);
          if (!sameAnswers(before, input)) changed.push(environment);
          if (input) copy.inputs.set(change.key, input);
          else copy.inputs.delete(change.key);
          // The flag's rules are read again: they may have been published before this copy knew the flag (the
          // two owners' relays are independent), and a flag must never be compiled without the rules it has.
          const [rules = []] = input ? await cache.getRules(environment, [change.key]) : [];
          compileInto(copy, change.key, rules);
        }
        return { changed, project: projects.size === 1 ? [...projects][0] : undefined };
      }
      case 'rules': {
        const copy = environments.get(change.environment);
        const input = copy?.inputs.get(change.flagKey);
        // A flag this copy does not know (yet) gets its rules when its own change arrives.
        if (!copy || !input) return { changed: [] };
        const [rules = []] = await cache.getRules(change.environment, [change.flagKey]);
        compileInto(copy, change.flagKey, rules);
        return { changed: [change.environment], project: input.project };
      }
      case 'segment': {
        // Only rules of its project's flags may use a segment: that project's callers hear of it.
        const segment = await cache.getSegment(change.key);
        const before = segmentSources.get(change.key);
        const projects = new Set([segment, before].flatMap((s) => (s ? [projectOf(s)] : [])));
        putSegment(change.key, segment);
        return { changed: [...environments.keys()], project: projects.size === 1 ? [...projects][0] : undefined };
      }
      default:
        return { changed: [] };
    }
  }

  /** Re-reads every loaded environment from the cache; keeps what it has when the cache is incomplete. */
  async function reloadAll(): Promise<void> {
    let first = true;
    for (const environment of [...environments.keys()]) {
      const copy = await fromCache(environment, first);
      if (!copy) return;
      first = false;
      environments.set(environment, copy);
    }
    releaseMemorySoon(loadSettleMs);
    // Changes may have been missed: every environment is at a version only this instance knows.
    versions.reloaded(environments.keys());
  }

  function environment(name: string): CompiledEnvironment | Promise<CompiledEnvironment> {
    const copy = environments.get(name);
    if (copy) return copy.compiled;
    let pending = loading.get(name);
    if (!pending) {
      pending = load(name).finally(() => loading.delete(name));
      loading.set(name, pending);
    }
    return pending;
  }

  return {
    environment,
    async document(name, project) {
      await environment(name);
      const copy = environments.get(name)!;
      const made = copy.documents.get(project);
      if (made?.revision === copy.revision && made.segmentsRevision === segmentsRevision) return made.value;
      // What the document will be current for: a change applied while the rules are read makes the next request make it again.
      const revision = copy.revision;
      const segmentsRevisionNow = segmentsRevision;
      const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
      const byId = (a: Rule, b: Rule) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
      // The rules as published are read from the cache when a document is made (after a change, for the SDKs that
      // ask): kept beside the compiled flags they were a sixth of the replica's memory for every flag. Without the
      // cache the last document made is served; none made yet is a 503, and the SDK asks again.
      const inputs = [...copy.inputs.values()].filter((input) => input.project === project);
      const rules: Rule[][] = [];
      try {
        for (let i = 0; i < inputs.length; i += loadChunk)
          rules.push(
            ...(await cache.getRules(
              name,
              inputs.slice(i, i + loadChunk).map((input) => input.key),
            )),
          );
      } catch (error) {
        if (made) return made.value;
        logger.warn({ err: error, environment: name }, 'configuration cache unreachable; the SDK configuration cannot be made yet');
        throw new AppError('SERVICE_UNAVAILABLE', `The configuration of "${name}" cannot be read right now; retry shortly`, {
          headers: { 'retry-after': '1' },
        });
      }
      // The document holds one project's flags: they are not labelled with it (the SDK's format is unchanged).
      const flags: FlagConfiguration[] = inputs.map(({ project: _project, ...input }, i) => ({
        ...input,
        rules: [...(rules[i] ?? [])].sort(byId),
      }));
      flags.sort(byKey);
      // The project's segments: the only ones its flags' rules (and its segments' in_segment conditions) may use.
      const segmentList = [...segmentSources.values()].filter((segment) => projectOf(segment) === project).sort(byKey);
      const json = JSON.stringify({ environment: name, flags, segments: segmentList });
      // A hash of the content: the same on every instance that has the same configuration. Another project's
      // document has another ETag even when its content is the same (a cache never answers one for the other).
      const hashed = project === defaultProject ? json : `${project}\n${json}`;
      const value = { json, etag: `"${hash('sha256', hashed, 'base64url').slice(0, 27)}"` };
      copy.documents.set(project, { revision, segmentsRevision: segmentsRevisionNow, value });
      return value;
    },
    async start() {
      follower = await followChanges({
        name: 'configuration',
        cache,
        logger,
        metrics: deps.metrics,
        apply,
        reload: reloadAll,
        ...(deps.retryMs ? { retryMs: deps.retryMs } : {}),
      });
    },
    async stop() {
      await follower?.stop();
    },
    get behind() {
      return follower?.behind ?? false;
    },
    versions,
  };
}
