import { hash, randomBytes } from 'node:crypto';
import { entryKeyOf, type PublishedChange } from '../../shared/propagation/config-change.ts';

/**
 * Which configuration an environment is at: the last change applied to it. `id` is the same on every instance that
 * applied that change (the commit time and the entry it names), so a client may carry it from one instance to
 * another: it is the event id and the `etag` of the OFREP change events, and the `flagConfigEtag` of the re-fetch.
 */
export interface ConfigVersion {
  id: string;
  /** When the change committed (ms since the epoch); `lastModified` of the events is this in seconds. */
  at: number;
}

/** `project`: the only project whose callers the change concerns; undefined: every project's (a segment, a reload). */
export type VersionListener = (environment: string, version: ConfigVersion, project: string | undefined) => void;

/** Changes older than this are not waited for: this copy has them (it loaded after them) or has moved past them. */
const memoryMs = 10_000;
/** Ids of applied changes remembered, to tell a re-fetch whether this instance has its change yet. */
const remembered = 4_096;

/** The version of a published change: its commit time and a short hash of the entry it names. */
export function versionOf(change: PublishedChange, now = Date.now()): ConfigVersion {
  const at = change.at ? Date.parse(change.at) : Number.NaN;
  if (change.kind === 'reseeded' || !Number.isFinite(at)) return localVersion(now);
  return { id: `${at}-${hash('sha256', entryKeyOf(change), 'hex').slice(0, 10)}`, at };
}

/** A version only this instance knows (a reload after a break, the start): a client that carries it elsewhere re-fetches. */
export function localVersion(now = Date.now()): ConfigVersion {
  return { id: `${now}-local-${randomBytes(5).toString('hex')}`, at: now };
}

/** Another instance's local version is never applied here: a re-fetch that names one is not kept waiting. */
const isLocal = (id: string) => id.includes('-local-');

/**
 * The versions of this instance's environments, as each project's callers see them, and who wants to hear of a new
 * one (the event streams). A change that left an environment's answers as they were does not move it; a change to
 * one project's flag moves it for that project's callers only.
 */
export function createConfigurationVersions(now: () => number = Date.now) {
  let base = localVersion(now());
  /** Per environment, the last change that concerned every project. */
  const current = new Map<string, ConfigVersion>();
  /** Per environment, the projects moved by a change of their own since (an everyone's change clears them). */
  const ofProjects = new Map<string, Map<string, ConfigVersion>>();
  const listeners = new Set<VersionListener>();
  const applied = new Set<string>();
  const waiters = new Map<string, Set<() => void>>();

  function remember(id: string): void {
    applied.add(id);
    // A Set iterates in insertion order: the first is the oldest.
    if (applied.size > remembered) applied.delete(applied.values().next().value!);
    for (const resolve of waiters.get(id) ?? []) resolve();
    waiters.delete(id);
  }

  return {
    /** The version of `environment` that the callers of `project` are at. */
    current: (environment: string, project: string): ConfigVersion =>
      ofProjects.get(environment)?.get(project) ?? current.get(environment) ?? base,

    /**
     * `version` was applied; the `environments` it changed move to it — for the callers of `project` only, when it
     * names one — and their listeners hear of it.
     */
    applied(version: ConfigVersion, environments: Iterable<string>, project?: string): void {
      remember(version.id);
      for (const environment of environments) {
        if (project === undefined) {
          current.set(environment, version);
          ofProjects.delete(environment);
        } else {
          let moved = ofProjects.get(environment);
          if (!moved) ofProjects.set(environment, (moved = new Map<string, ConfigVersion>()));
          moved.set(project, version);
        }
        for (const listener of listeners) listener(environment, version, project);
      }
    },

    /** Everything was read again (a reload): every environment is at a version only this instance knows. */
    reloaded(environments: Iterable<string>): void {
      base = localVersion(now());
      this.applied(base, environments);
    },

    onChange(listener: VersionListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /**
     * Whether this instance has applied the change of version `id` (a re-fetch names the version its change event
     * announced: answering from an instance that has not applied it yet would tell the client nothing changed).
     * Waits up to `timeoutMs` for it; a version it cannot read or too old to wait for counts as applied.
     */
    async caughtUpWith(id: string, timeoutMs: number): Promise<boolean> {
      if (applied.has(id) || isLocal(id)) return true;
      const at = Number.parseInt(id, 10);
      if (!Number.isFinite(at) || at < now() - memoryMs) return true;
      return new Promise<boolean>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.get(id)?.delete(done);
          resolve(true);
        };
        const timer = setTimeout(() => {
          waiters.get(id)?.delete(done);
          resolve(false);
        }, timeoutMs);
        waiters.set(id, (waiters.get(id) ?? new Set()).add(done));
      });
    },
  };
}

export type ConfigurationVersions = ReturnType<typeof createConfigurationVersions>;
