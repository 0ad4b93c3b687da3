import { flagsApi } from '../api/endpoints.ts';
import { useResource, type Resource } from './hooks.ts';

let cached: Promise<string[]> | undefined;

/** The environments' keys, in their order: every flag has a state in each (asked once per page load). */
export function useEnvironments(): Resource<string[]> {
  return useResource(() => {
    cached ??= flagsApi.environments().then(
      ({ data }) => data.items.map((environment) => environment.key),
      (error: unknown) => {
        cached = undefined;
        throw error;
      },
    );
    return cached;
  }, []);
}
