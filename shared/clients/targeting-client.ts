import type { Rule, RuleSpec } from '../contracts/targeting-model.ts';
import { AppError } from '../http/problem.ts';
import { deleteResource, getJson, sendJson, type Credential } from './service-client.ts';

/**
 * What the flags service asks targeting: which rules a flag has, in every environment (before it removes variants),
 * to remove them (before it purges the flag), and to copy them from one environment to another (a copy of an
 * environment's state).
 */
export interface FlagRulesClient {
  /** Every rule of the flag; throws (503) rather than answer "none" when targeting does not say. */
  listRulesOfFlag(flagKey: string, credential: Credential): Promise<Rule[]>;
  /**
   * Every rule in an environment, of every project (before the environment is deleted); the organisation admin's to
   * list (targeting refuses anyone else, 403). Throws (503) rather than answer "none".
   */
  listRulesIn(environment: string, credential: Credential): Promise<Rule[]>;
  /** Sets a flag's rules in one environment to exactly these, as the approved change request `changeRequestId`. */
  setRules(
    input: { flagKey: string; environment: string; rules: RuleSpec[] },
    changeRequestId: string,
    credential: Credential,
  ): Promise<Rule[]>;
  /** Deletes one rule (one already gone is fine); throws when targeting does not do it. */
  deleteRule(id: string, credential: Credential): Promise<void>;
  /**
   * Replaces the flag's rules in `to` with copies of its rules in `from` (PUT /targeting/rules/copy), answering the
   * rules now in `to`; targeting's refusals come back as the same problem, anything else as a 503.
   */
  copyRules(input: { flagKey: string; from: string; to: string }, credential: Credential): Promise<Rule[]>;
}

export function createTargetingClient(baseUrl: string): FlagRulesClient {
  /** No answer, or one that is not a list of rules, must not read as "no rules": a removal would then go through. */
  async function listRules(query: string, what: string, credential: Credential): Promise<Rule[]> {
    const page = await getJson<{ items?: unknown }>(baseUrl, `/targeting/rules?${query}`, credential, 'targeting').catch(
      (error: unknown) => {
        throw error instanceof AppError
          ? error
          : new AppError('SERVICE_UNAVAILABLE', 'The targeting service answered something that is not JSON');
      },
    );
    if (!page || !Array.isArray(page.items))
      throw new AppError('SERVICE_UNAVAILABLE', `The targeting service did not list the rules of ${what}`);
    return page.items as Rule[];
  }

  return {
    listRulesOfFlag: (flagKey, credential) => listRules(`flagKey=${encodeURIComponent(flagKey)}`, `"${flagKey}"`, credential),
    listRulesIn: (environment, credential) =>
      listRules(`environment=${encodeURIComponent(environment)}`, `the environment "${environment}"`, credential),
    async deleteRule(id, credential) {
      await deleteResource(baseUrl, `/targeting/rules/${encodeURIComponent(id)}`, credential, 'targeting');
    },
    async setRules(input, changeRequestId, credential) {
      const page = await sendJson<{ items?: unknown }>(baseUrl, 'PUT', '/targeting/rules/set', input, credential, 'targeting', {
        'togglemaster-change-request': changeRequestId,
      });
      if (!page || !Array.isArray(page.items))
        throw new AppError('SERVICE_UNAVAILABLE', 'The targeting service did not answer the rules it set');
      return page.items as Rule[];
    },
    async copyRules(input, credential) {
      const page = await sendJson<{ items?: unknown }>(baseUrl, 'PUT', '/targeting/rules/copy', input, credential, 'targeting');
      if (!page || !Array.isArray(page.items))
        throw new AppError('SERVICE_UNAVAILABLE', 'The targeting service did not answer the copied rules');
      return page.items as Rule[];
    },
  };
}
