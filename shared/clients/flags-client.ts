import type { FlagDocument } from '../contracts/flag-model.ts';
import { getJson, type Credential } from './service-client.ts';

export interface FlagsClient {
  getFlag(key: string, credential: Credential): Promise<FlagDocument | undefined>;
}

export function createFlagsClient(baseUrl: string): FlagsClient {
  return {
    getFlag: (key, credential) => getJson<FlagDocument>(baseUrl, `/flags/${encodeURIComponent(key)}`, credential, 'flags'),
  };
}
