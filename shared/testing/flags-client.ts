import type { FlagsClient, RulesChangeRequest } from '../clients/flags-client.ts';
import type { FlagDocument } from '../contracts/flag-model.ts';
import { defaultProject, projectOf } from '../contracts/project-model.ts';

/**
 * The flags service as the other services see it, answered from a list of flags (unit tests of those services). A
 * flag may carry `project` (`flagDocument('k', { project: 'payments' })`); the projects there are: the default one,
 * those of the flags, and those named in `projects`.
 */
export function fixedFlags(
  flags: FlagDocument[],
  options: { protectedEnvironments?: string[]; changeRequests?: Map<string, RulesChangeRequest>; projects?: string[] } = {},
): FlagsClient {
  const byKey = new Map(flags.map((f) => [f.key, f]));
  const projects = new Set([defaultProject, ...flags.map(projectOf), ...(options.projects ?? [])]);
  return {
    getFlag: async (key) => byKey.get(key),
    environments: async () =>
      [...new Set(flags.flatMap((f) => Object.keys(f.environments)))].map((key) => ({
        key,
        protected: options.protectedEnvironments?.includes(key) ?? false,
      })),
    getChangeRequest: async (id) => options.changeRequests?.get(id),
    getProject: async (key) => (projects.has(key) ? { key, name: key } : undefined),
  };
}

export function flagDocument(key: string, overrides: Partial<FlagDocument> = {}): FlagDocument {
  const state = { enabled: true, offVariant: 'off', defaultServe: { variant: 'off' }, prerequisites: [] };
  return {
    key,
    name: key,
    description: '',
    tags: [],
    type: 'boolean',
    variants: [
      { key: 'on', value: true },
      { key: 'off', value: false },
    ],
    salt: `salt-${key}`,
    version: 1,
    clientVisible: false,
    environments: { development: state, production: state },
    createdAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
    ...overrides,
  };
}
