import { flagsApi } from '../api/endpoints.ts';
import type { Environment } from '../api/types.ts';
import { useResource, type Resource } from './hooks.ts';

let cached: Promise<Environment[]> | undefined;

function load(): Promise<Environment[]> {
  cached ??= flagsApi.environments().then(
    ({ data }) => data.items,
    (error: unknown) => {
      cached = undefined;
      throw error;
    },
  );
  return cached;
}

/** The environments' keys, in their order: every flag has a state in each (asked once per page load). */
export function useEnvironments(): Resource<string[]> {
  return useResource(async () => (await load()).map((environment) => environment.key), []);
}

/** The environments themselves (name, protected, approvals), in their order; the same answer as `useEnvironments`. */
export function useEnvironmentList(): Resource<Environment[]> {
  return useResource(load, []);
}

/** After an admin changed the environments: the pages opened next ask again. */
export function forgetEnvironments(): void {
  cached = undefined;
}

/** An environment's name, or its key when it is not (or not yet) known. */
export function environmentName(environments: readonly Environment[] | undefined, key: string): string {
  return environments?.find((environment) => environment.key === key)?.name ?? key;
}
