import { createFlagsClient } from '../../shared/clients/flags-client.ts';
import { getJson, type Credential } from '../../shared/clients/service-client.ts';
import { projectOf } from '../../shared/contracts/project-model.ts';

/**
 * What analytics asks the flags service, on the caller's behalf, to keep each reader to the projects they may see:
 * analytics keeps counts by flag key, and the flags service knows which project each flag is in.
 */
export interface FlagProjects {
  /** The project of a flag (an archived one too); undefined when there is no such flag. 403 when the caller may not see it. */
  projectOfFlag(flagKey: string, credential: Credential): Promise<string | undefined>;
  /** The keys of a project's flags, active and archived; undefined when there is no such project. */
  flagKeysOf(project: string, credential: Credential): Promise<ReadonlySet<string> | undefined>;
}

/** The flags service's largest page. */
const pageSize = 200;

export function createFlagProjects(flagsUrl: string): FlagProjects {
  const flags = createFlagsClient(flagsUrl);
  return {
    async projectOfFlag(flagKey, credential) {
      const flag = await flags.getFlag(flagKey, credential);
      return flag && projectOf(flag);
    },
    async flagKeysOf(project, credential) {
      const keys = new Set<string>();
      // Archived flags keep their counts (their stats are still read): theirs are the project's too.
      for (const archived of [false, true]) {
        let cursor: string | null = null;
        do {
          const query = new URLSearchParams({ project, limit: String(pageSize), archived: String(archived) });
          if (cursor) query.set('cursor', cursor);
          const page = await getJson<{ items: { key: string }[]; nextCursor: string | null }>(
            flagsUrl,
            `/flags?${query.toString()}`,
            credential,
            'flags',
          );
          if (!page) return undefined;
          for (const flag of page.items) keys.add(flag.key);
          cursor = page.nextCursor;
        } while (cursor);
      }
      return keys;
    },
  };
}
