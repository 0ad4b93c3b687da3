import type { Rule, Segment } from '../contracts/targeting-model.ts';
import { getJson, type Credential } from './service-client.ts';

export interface TargetingClient {
  listRules(environment: string, credential: Credential): Promise<Rule[]>;
  listSegments(credential: Credential): Promise<Segment[]>;
}

export function createTargetingClient(baseUrl: string): TargetingClient {
  return {
    async listRules(environment, credential) {
      const page = await getJson<{ items: Rule[] }>(baseUrl, `/targeting/rules?environment=${encodeURIComponent(environment)}`, credential, 'targeting');
      return page?.items ?? [];
    },
    async listSegments(credential) {
      const page = await getJson<{ items: Segment[] }>(baseUrl, '/targeting/segments', credential, 'targeting');
      return page?.items ?? [];
    },
  };
}
