import type { FlagProjects } from './flag-projects.ts';

/** The flags service as analytics asks it, from a list (unit tests): each flag's project, each project's flags. */
export function fixedFlagProjects(projectOfFlag: Record<string, string>, projects: string[] = ['default']): FlagProjects {
  return {
    projectOfFlag: async (flagKey) => projectOfFlag[flagKey],
    flagKeysOf: async (project) =>
      projects.includes(project)
        ? new Set(Object.entries(projectOfFlag).flatMap(([flagKey, of]) => (of === project ? [flagKey] : [])))
        : undefined,
  };
}
