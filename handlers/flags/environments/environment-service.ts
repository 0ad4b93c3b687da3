import type { Credential } from '../../../shared/clients/service-client.ts';
import { AppError } from '../../../shared/http/problem.ts';
import { assertIfMatch } from '../../../shared/http/if-match.ts';
import { nameOf, seededEnvironment, type Environment } from './environment.ts';
import type { EnvironmentStore } from './environment-store.ts';

export interface EnvironmentInput {
  name?: string | undefined;
  protected?: boolean | undefined;
  requiredApprovals?: number | undefined;
}

/** Environments a deployment holds at most: every flag has a state in each. */
export const maxEnvironments = 50;

/**
 * Environments as data. `usage` says what still lives in an environment (flags on there, rules, SDK keys, pending
 * schedules…): it is deleted only when that is nothing.
 */
export function createEnvironmentService(deps: {
  store: EnvironmentStore;
  usage: (key: string, credential: Credential) => Promise<string[]>;
  now?: () => Date;
}) {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());

  async function found(key: string): Promise<Environment> {
    const environment = (await store.list()).find((e) => e.key === key);
    if (!environment) throw new AppError('NOT_FOUND', `No environment "${key}"`);
    return environment;
  }

  return {
    list: () => store.list(),
    get: found,

    /** Fills an empty table from ENVIRONMENTS (the first start); later starts leave the table alone. */
    async seed(keys: readonly string[]): Promise<void> {
      const at = now();
      await store.seed(keys.map((key, position) => seededEnvironment(key, position, at)));
    },

    async create(key: string, input: EnvironmentInput): Promise<Environment> {
      const existing = await store.list();
      if (existing.length >= maxEnvironments) throw new AppError('CONFLICT', `At most ${maxEnvironments} environments; delete one first`);
      const at = now();
      const environment: Environment = {
        key,
        name: input.name ?? nameOf(key),
        position: Math.max(-1, ...existing.map((e) => e.position)) + 1,
        protected: input.protected ?? false,
        requiredApprovals: input.requiredApprovals ?? 1,
        createdAt: at,
        updatedAt: at,
        version: 1,
      };
      if (!(await store.insert(environment))) throw new AppError('CONFLICT', `There is already an environment "${key}"`);
      return environment;
    },

    async update(key: string, change: EnvironmentInput, ifMatch: string | undefined): Promise<Environment> {
      const current = await found(key);
      assertIfMatch(current.version, ifMatch, 'environment');
      const next: Environment = {
        ...current,
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.protected !== undefined ? { protected: change.protected } : {}),
        ...(change.requiredApprovals !== undefined ? { requiredApprovals: change.requiredApprovals } : {}),
        updatedAt: now(),
        version: current.version + 1,
      };
      const outcome = await store.update(next, current.version);
      if (outcome === 'not-found') throw new AppError('NOT_FOUND', `No environment "${key}"`);
      if (outcome === 'stale') throw new AppError('PRECONDITION_FAILED', 'The environment changed meanwhile; reload it and try again');
      return next;
    },

    /** The new order: every environment's key, each once. */
    async reorder(keys: readonly string[]): Promise<Environment[]> {
      const current = (await store.list()).map((e) => e.key);
      const same = keys.length === current.length && new Set(keys).size === keys.length && keys.every((k) => current.includes(k));
      if (!same)
        throw new AppError('VALIDATION_FAILED', `The order must name every environment once: ${current.join(', ')}`, {
          errors: [{ path: '/keys', message: `must be a permutation of ${current.join(', ')}` }],
        });
      await store.reorder(keys, now());
      return store.list();
    },

    /** Only an empty environment goes: the answer names what still lives there otherwise. */
    async delete(key: string, credential: Credential): Promise<void> {
      const all = await store.list();
      if (!all.some((e) => e.key === key)) throw new AppError('NOT_FOUND', `No environment "${key}"`);
      if (all.length === 1) throw new AppError('CONFLICT', 'The last environment cannot be deleted');
      const inUse = await deps.usage(key, credential);
      if (inUse.length > 0) throw new AppError('CONFLICT', `"${key}" is not empty: ${inUse.join('; ')}`);
      if (!(await store.delete(key))) throw new AppError('NOT_FOUND', `No environment "${key}"`);
    },
  };
}

export type EnvironmentService = ReturnType<typeof createEnvironmentService>;
