import type { FlagsClient } from '../../shared/clients/flags-client.ts';
import type { Credential } from '../../shared/clients/service-client.ts';
import type { TargetingClient } from '../../shared/clients/targeting-client.ts';
import type { ConfigCache, ConfigChange } from '../../shared/config-cache/config-cache.ts';
import type { FlagDocument } from '../../shared/contracts/flag-model.ts';
import type { Rule, Segment } from '../../shared/contracts/targeting-model.ts';
import { compileFlag, compileSegment, type CompiledEnvironment, type CompiledSegment } from '../../shared/engine/index.ts';
import type { Logger } from '../../shared/logging/logger.ts';

interface EnvironmentCopy {
  compiled: CompiledEnvironment;
  documents: Map<string, FlagDocument>;
  rules: Map<string, Rule[]>;
}

export interface ConfigurationReplica {
  /** The compiled configuration of an environment: from memory, else the shared cache, else the owning services. */
  environment(name: string, credential: Credential): CompiledEnvironment | Promise<CompiledEnvironment>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True while a change could not be applied (the cache is unreachable): answers may be stale until it is. */
  readonly behind: boolean;
}

/**
 * This instance's copy of the configuration. Evaluation answers from it without any I/O; the owning services'
 * relays tell it what changed through the configuration cache, and it recompiles just that flag or segment.
 */
export function createConfigurationReplica(deps: { cache: ConfigCache; flags: FlagsClient; targeting: TargetingClient; logger: Logger; retryMs?: number }): ConfigurationReplica {
  const { cache, logger } = deps;
  const environments = new Map<string, EnvironmentCopy>();
  const loading = new Map<string, Promise<CompiledEnvironment>>();
  // Segments do not depend on the environment: one compiled map serves every environment.
  const segments = new Map<string, CompiledSegment>();
  let segmentsLoaded = false;
  let behind = false;
  // Counts changes heard; a load that overlapped one reads again, so no change falls between load and subscribe.
  let changesHeard = 0;
  // Changes and reloads run one after another, in the order heard: a reload that read the cache before a change
  // must not finish after that change was applied and put the older copy back.
  let updates: Promise<void> = Promise.resolve();
  const serially = (task: () => Promise<void>) => {
    updates = updates.then(task).catch(fellBehind);
  };
  let retryTimer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;

  function compileInto(copy: EnvironmentCopy, environment: string, key: string): void {
    const document = copy.documents.get(key);
    const state = document?.environments[environment];
    if (!document || !state) {
      copy.compiled.flags.delete(key);
      return;
    }
    copy.compiled.flags.set(key, compileFlag({ key, type: document.type, variants: document.variants, salt: document.salt, version: document.version, state, rules: copy.rules.get(key) ?? [] }));
  }

  function build(environment: string, documents: FlagDocument[], rules: Rule[], segmentList: Segment[] | undefined): EnvironmentCopy {
    if (segmentList) {
      segments.clear();
      for (const segment of segmentList) segments.set(segment.key, compileSegment(segment));
      segmentsLoaded = true;
    }
    const copy: EnvironmentCopy = { compiled: { flags: new Map(), segments }, documents: new Map(documents.map((d) => [d.key, d])), rules: new Map() };
    for (const rule of rules) copy.rules.set(rule.flagKey, [...(copy.rules.get(rule.flagKey) ?? []), rule]);
    for (const key of copy.documents.keys()) compileInto(copy, environment, key);
    return copy;
  }

  async function cacheIsComplete(): Promise<boolean> {
    const [flags, targeting] = await Promise.all([cache.isSeeded('flags'), cache.isSeeded('targeting')]);
    return flags && targeting;
  }

  async function fromCache(environment: string, withSegments: boolean): Promise<EnvironmentCopy | undefined> {
    if (!(await cacheIsComplete())) return undefined;
    const keys = await cache.flagKeys();
    const [documents, ruleLists, segmentList] = await Promise.all([cache.getFlags(keys), cache.getRules(environment, keys), withSegments ? cache.getSegments() : undefined]);
    return build(environment, documents.filter((d): d is FlagDocument => d !== undefined), ruleLists.flat(), segmentList);
  }

  async function fromServices(environment: string, credential: Credential): Promise<EnvironmentCopy> {
    const [documents, rules, segmentList] = await Promise.all([deps.flags.listFlags(credential), deps.targeting.listRules(environment, credential), deps.targeting.listSegments(credential)]);
    return build(environment, documents, rules, segmentList);
  }

  async function load(environment: string, credential: Credential): Promise<CompiledEnvironment> {
    const heardBefore = changesHeard;
    let copy: EnvironmentCopy | undefined;
    try {
      copy = await fromCache(environment, !segmentsLoaded);
    } catch (error) {
      logger.warn({ err: error instanceof Error ? error.message : String(error), environment }, 'configuration cache unreachable; loading from the owning services');
    }
    copy ??= await fromServices(environment, credential);
    environments.set(environment, copy);
    if (changesHeard !== heardBefore) serially(reloadAll);
    return copy.compiled;
  }

  async function apply(change: ConfigChange): Promise<void> {
    switch (change.kind) {
      case 'flag': {
        const [document] = await cache.getFlags([change.key]);
        for (const [environment, copy] of environments) {
          if (document) {
            copy.documents.set(change.key, document);
            // The flag's rules too: they may have been published before this copy knew the flag (the two owners'
            // relays are independent), and a flag must never be compiled without the rules it has.
            const [rules = []] = await cache.getRules(environment, [change.key]);
            copy.rules.set(change.key, rules);
          } else {
            copy.documents.delete(change.key);
            copy.rules.delete(change.key);
          }
          compileInto(copy, environment, change.key);
        }
        return;
      }
      case 'rules': {
        const copy = environments.get(change.environment);
        if (!copy) return;
        const [rules = []] = await cache.getRules(change.environment, [change.flagKey]);
        copy.rules.set(change.flagKey, rules);
        compileInto(copy, change.environment, change.flagKey);
        return;
      }
      case 'segment': {
        const segment = await cache.getSegment(change.key);
        if (segment) segments.set(change.key, compileSegment(segment));
        else segments.delete(change.key);
        return;
      }
      case 'reseeded':
        await reloadAll();
        return;
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
  }

  function fellBehind(error: unknown): void {
    behind = true;
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'a configuration change could not be applied; resynchronising');
    if (retryTimer) return;
    retryTimer = setInterval(() => {
      serially(async () => {
        await reloadAll();
        behind = false;
        clearInterval(retryTimer);
        retryTimer = undefined;
      });
    }, deps.retryMs ?? 1_000);
  }

  return {
    environment(name, credential) {
      const copy = environments.get(name);
      if (copy) return copy.compiled;
      let pending = loading.get(name);
      if (!pending) {
        pending = load(name, credential).finally(() => loading.delete(name));
        loading.set(name, pending);
      }
      return pending;
    },
    async start() {
      unsubscribe = await cache.subscribe(
        (change) => {
          changesHeard += 1;
          serially(() => apply(change));
        },
        () => {
          changesHeard += 1;
          serially(reloadAll);
        },
      );
    },
    async stop() {
      clearInterval(retryTimer);
      await unsubscribe?.();
    },
    get behind() {
      return behind;
    },
  };
}
