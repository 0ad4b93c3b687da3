import { getJson, type Credential } from '../../../shared/clients/service-client.ts';
import { AppError } from '../../../shared/http/problem.ts';
import type { FlagStore } from '../flag-store.ts';
import type { WebhookStore } from '../webhooks/webhook-store.ts';
import { list, shown } from '../environments/environment-usage.ts';

/**
 * What still lives in a project, in words (empty: it may be deleted): its flags, archived ones too (flags database),
 * its webhooks, its segments (targeting), its live SDK keys and its members (auth). The other services are asked with
 * the caller's credential (an organisation admin's); one that cannot answer refuses the deletion (503). Change
 * requests follow their flags; the foreign keys are the last word against a race.
 */
export function projectUsage(deps: { store: FlagStore; webhooks: Pick<WebhookStore, 'list'>; targetingUrl: string; authUrl: string }) {
  const listed = async (url: string, path: string, credential: Credential, service: string) => {
    const answer = await getJson<{ items?: { key?: string; name?: string; email?: string }[] }>(url, path, credential, service);
    if (!answer || !Array.isArray(answer.items))
      throw new AppError('SERVICE_UNAVAILABLE', `The ${service} service did not answer the list`);
    return answer.items;
  };
  return async (project: string, credential: Credential): Promise<string[]> => {
    const found: string[] = [];
    for (const archived of [false, true]) {
      const page = await deps.store.list({ project, archived, limit: shown + 1 });
      if (page.items.length > 0) found.push(`${archived ? 'archived ' : ''}flags: ${list(page.items.map((f) => f.key))}`);
    }
    const hooks = await deps.webhooks.list(shown + 1, project);
    if (hooks.length > 0) found.push(`webhooks: ${list(hooks.map((h) => h.url))}`);
    // Refused already: the other services need not be asked (nor be up).
    if (found.length > 0) return found;
    const q = `project=${encodeURIComponent(project)}`;
    const segments = await listed(deps.targetingUrl, `/targeting/segments?${q}`, credential, 'targeting');
    if (segments.length > 0) found.push(`segments: ${list(segments.map((s) => s.key ?? '?'))}`);
    const keys = await listed(deps.authUrl, `/auth/api-keys?${q}`, credential, 'auth');
    if (keys.length > 0) found.push(`live SDK keys: ${list(keys.map((k) => k.name ?? '?'))} (revoke them first)`);
    const members = await listed(deps.authUrl, `/auth/projects/${encodeURIComponent(project)}/members`, credential, 'auth');
    if (members.length > 0) found.push(`members: ${list(members.map((m) => m.email ?? '?'))} (remove them first)`);
    return found;
  };
}
