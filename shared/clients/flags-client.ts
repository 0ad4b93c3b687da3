import type { FlagDocument } from '../contracts/flag-model.ts';
import { getJson, type Credential } from './service-client.ts';

export interface FlagsClient {
  getFlag(key: string, credential: Credential): Promise<FlagDocument | undefined>;
  /** Every flag, following the pages. */
  listFlags(credential: Credential): Promise<FlagDocument[]>;
}

export function createFlagsClient(baseUrl: string): FlagsClient {
  return {
    getFlag: (key, credential) => getJson<FlagDocument>(baseUrl, `/flags/${encodeURIComponent(key)}`, credential, 'flags'),
    async listFlags(credential) {
      const flags: FlagDocument[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `/flags?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await getJson<{ items: FlagDocument[]; nextCursor: string | null }>(baseUrl, query, credential, 'flags');
        flags.push(...(page?.items ?? []));
        cursor = page?.nextCursor ?? null;
      } while (cursor);
      return flags;
    },
  };
}
