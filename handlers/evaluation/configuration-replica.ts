import { hash } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { ConfigCache } from '../../shared/propagation/config-cache.ts';
import type { PublishedChange } from '../../shared/propagation/config-change.ts';
import { createConfigurationVersions, versionOf, type ConfigurationVersions } from './configuration-versions.ts';
import { followChanges, type ChangeFollower } from '../../shared/propagation/follow-changes.ts';
import type { FlagConfiguration } from '../../shared/contracts/evaluation-model.ts';
import type { FlagDocument } from '../../shared/contracts/flag-model.ts';
import type { Rule, Segment } from '../../shared/contracts/targeting-model.ts';
import { compileFlag, CompiledFlags, compileSegment, type CompiledEnvironment, type CompiledSegment } from '../../shared/engine/index.ts';
import { AppError } from '../../shared/http/problem.ts';
import type { Logger } from '../../shared/logging/logger.ts';

/**
 * What recompiling a flag of one environment needs besides its rules (which a change re-reads from the cache):
 * not the whole document (name, description, tags, every environment's state).
 */
type FlagInput = Omit<FlagConfiguration, 'rules'>;

interface EnvironmentCopy {
  compiled: CompiledEnvironment;
  inputs: Map<string, FlagInput>;
  /** Each flag's rules as published: what in-process SDKs get (they compile them themselves). */
  rules: Map<string, Rule[]>;
  /** Grows with every change to this copy: the configuration document is made again only after one. */
  revision: number;
  document?: { revision: number; segmentsRevision: number; value: ConfigurationDocument };
}

/** An environment's configuration as one JSON document (in-process SDKs compile it), and its ETag. */
export interface ConfigurationDocument {
  json: string;
  etag: string;
}

/** Flags read from the cache per round trip while loading: a bounded batch, so loading does not swell the heap. */
const loadChunk = 500;

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
  /** The environment's configuration as published (flags with their rules, segments), for in-process SDKs. */
  document(name: string): Promise<ConfigurationDocument>;
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
      copy.rules.set(key, rules);
    } else {
      copy.compiled.flags.delete(key);
      copy.rules.delete(key);
    }
    copy.revision += 1;
  }

  function putSegment(key: string, segment: Segment | undefined): void {
    if (segment) {
      segments.set(key, compileSegment(segment));
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
    return { compiled: { flags: new CompiledFlags(), segments }, inputs: new Map(), rules: new Map(), revision: 0 };
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
    if (follower && follower.heard !== heardBefore) void follower.serially(reloadAll);
    return copy.compiled;
  }

  /** Applies a change and moves the environments whose answers it may change to its version. */
  async function apply(change: PublishedChange): Promise<void> {
    if (change.kind === 'reseeded') return reloadAll();
    versions.applied(versionOf(change), await applyToCopies(change));
  }

  /** The environments whose answers the change may alter. */
  async function applyToCopies(change: Exclude<PublishedChange, { kind: 'reseeded' }>): Promise<string[]> {
    switch (change.kind) {
      case 'flag': {
        const [document] = await cache.getFlags([change.key]);
        const changed: string[] = [];
        for (const [environment, copy] of environments) {
          const input = document && inputOf(document, environment);
          if (!sameAnswers(copy.inputs.get(change.key), input)) changed.push(environment);
          if (input) copy.inputs.set(change.key, input);
          else copy.inputs.delete(change.key);
          // The flag's rules are read again: they may have been published before this copy knew the flag (the
          // two owners' relays are independent), and a flag must never be compiled without the rules it has.
          const [rules = []] = input ? await cache.getRules(environment, [change.key]) : [];
          compileInto(copy, change.key, rules);
        }
        return changed;
      }
      case 'rules': {
        const copy = environments.get(change.environment);
        // A flag this copy does not know (yet) gets its rules when its own change arrives.
        if (!copy?.inputs.has(change.flagKey)) return [];
        const [rules = []] = await cache.getRules(change.environment, [change.flagKey]);
        compileInto(copy, change.flagKey, rules);
        return [change.environment];
      }
      case 'segment': {
        putSegment(change.key, await cache.getSegment(change.key));
        return [...environments.keys()];
      }
      default:
        return [];
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
    async document(name) {
      await environment(name);
      const copy = environments.get(name)!;
      const made = copy.document;
      if (made?.revision === copy.revision && made.segmentsRevision === segmentsRevision) return made.value;
      const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
      const byId = (a: Rule, b: Rule) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
      const flags = [...copy.inputs.values()]
        .sort(byKey)
        .map((input) => ({ ...input, rules: [...(copy.rules.get(input.key) ?? [])].sort(byId) }));
      const json = JSON.stringify({ environment: name, flags, segments: [...segmentSources.values()].sort(byKey) });
      // A hash of the content: the same on every instance that has the same configuration.
      const value = { json, etag: `"${hash('sha256', json, 'base64url').slice(0, 27)}"` };
      copy.document = { revision: copy.revision, segmentsRevision, value };
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
