import type { FlagDocument } from '../contracts/flag-model.ts';
import type { RuleSpec } from '../contracts/targeting-model.ts';
import { AppError } from '../http/problem.ts';
import { getJson, type Credential } from './service-client.ts';

/** Of an environment, what another service needs: whether changes there go through change requests. */
export interface EnvironmentProtection {
  key: string;
  protected: boolean;
}

/** Of a change request, what targeting checks before it sets the rules the request approved. */
export interface RulesChangeRequest {
  kind: string;
  status: string;
  flagKey: string;
  environment: string;
  rules: RuleSpec[] | null;
  closedAt: string | null;
}

export interface FlagsClient {
  getFlag(key: string, credential: Credential): Promise<FlagDocument | undefined>;
  /** The environments there are; throws (503) rather than answer "none" when the flags service does not say. */
  environments(credential: Credential): Promise<EnvironmentProtection[]>;
  getChangeRequest(id: string, credential: Credential): Promise<RulesChangeRequest | undefined>;
  /** The project, if there is one the caller may see (undefined: none such, or the caller has no role in it). */
  getProject(key: string, credential: Credential): Promise<{ key: string; name: string } | undefined>;
}

export function createFlagsClient(baseUrl: string): FlagsClient {
  return {
    getFlag: (key, credential) => getJson<FlagDocument>(baseUrl, `/flags/${encodeURIComponent(key)}`, credential, 'flags'),
    async environments(credential) {
      const listed = await getJson<{ items?: EnvironmentProtection[] }>(baseUrl, '/flags/environments', credential, 'flags');
      if (!listed || !Array.isArray(listed.items))
        throw new AppError('SERVICE_UNAVAILABLE', 'The flags service did not list the environments');
      return listed.items;
    },
    getChangeRequest: (id, credential) =>
      getJson<RulesChangeRequest>(baseUrl, `/flags/change-requests/${encodeURIComponent(id)}`, credential, 'flags'),
    getProject: (key, credential) =>
      getJson<{ key: string; name: string }>(baseUrl, `/flags/projects/${encodeURIComponent(key)}`, credential, 'flags'),
  };
}
