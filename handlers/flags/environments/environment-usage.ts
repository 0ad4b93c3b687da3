import type { Credential } from '../../../shared/clients/service-client.ts';
import { getJson } from '../../../shared/clients/service-client.ts';
import type { FlagRulesClient } from '../../../shared/clients/targeting-client.ts';
import { AppError } from '../../../shared/http/problem.ts';
import type { FlagStore } from '../flag-store.ts';

/** Names shown of each kind of thing still in an environment or a project: enough to act on, not a dump. */
export const shown = 5;
export const list = (names: string[]) =>
  `${names.slice(0, shown).join(', ')}${names.length > shown ? ` and ${names.length - shown} more` : ''}`;

/**
 * What still lives in an environment, in words (empty: it may be deleted): flags turned on there, pending schedules
 * and running release plans (flags database), targeting rules (the targeting service), live SDK keys (auth). The other
 * services are asked with the caller's credential (an admin's); one that cannot answer refuses the deletion (503).
 */
export function environmentUsage(deps: { store: FlagStore; targeting: FlagRulesClient; authUrl: string }) {
  return async (environment: string, credential: Credential): Promise<string[]> => {
    const found: string[] = [];
    const on: string[] = [];
    let after: string | undefined;
    do {
      const page = await deps.store.list({ limit: 200, after });
      on.push(...page.items.filter((flag) => flag.environments[environment]?.enabled).map((flag) => flag.key));
      after = page.nextCursor ?? undefined;
    } while (after);
    if (on.length > 0) found.push(`flags on there: ${list(on)}`);
    const schedules = (await deps.store.listSchedules({ status: 'pending', limit: 10_000 })).filter((s) => s.environment === environment);
    if (schedules.length > 0) found.push(`pending scheduled changes of ${list([...new Set(schedules.map((s) => s.flagKey))])}`);
    const plans = (await deps.store.listPlans({ limit: 10_000 })).filter(
      (p) => p.environment === environment && (p.status === 'active' || p.status === 'paused'),
    );
    if (plans.length > 0) found.push(`running release plans of ${list(plans.map((p) => p.flagKey))}`);
    // The other services: one that cannot answer refuses the deletion (503) — unless it is refused anyway.
    const ask = async <T>(what: string, question: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await question();
      } catch (error) {
        if (found.length === 0) throw error;
        found.push(`(${what} could not be asked: ${(error as Error).message})`);
        return undefined;
      }
    };
    const rules = await ask('targeting', () => deps.targeting.listRulesIn(environment, credential));
    if (rules && rules.length > 0) found.push(`targeting rules of ${list([...new Set(rules.map((r) => r.flagKey))])}`);
    const keys = await ask('auth', async () => {
      const listed = await getJson<{ items?: { name: string }[] }>(
        deps.authUrl,
        `/auth/api-keys?environment=${encodeURIComponent(environment)}`,
        credential,
        'auth',
      );
      if (!listed || !Array.isArray(listed.items)) throw new AppError('SERVICE_UNAVAILABLE', 'The auth service did not list the SDK keys');
      return listed.items;
    });
    if (keys && keys.length > 0) found.push(`live SDK keys: ${list(keys.map((k) => k.name))} (revoke them first)`);
    return found;
  };
}
