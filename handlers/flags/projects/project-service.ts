import type { Credential } from '../../../shared/clients/service-client.ts';
import { defaultProject } from '../../../shared/contracts/project-model.ts';
import { roleIn, type Principal } from '../../../shared/http/authenticate.ts';
import { assertIfMatch } from '../../../shared/http/if-match.ts';
import { AppError } from '../../../shared/http/problem.ts';
import type { Project } from './project.ts';
import type { ProjectStore } from './project-store.ts';

export interface ProjectInput {
  name?: string | undefined;
  description?: string | undefined;
}

/** Projects a deployment holds at most: enough for every team of a large company, small enough to list at once. */
export const maxProjects = 1000;

/**
 * Projects as data. `usage` says what still lives in a project outside this service's foreign keys (segments, SDK
 * keys, members): it is deleted only when that and its flags, webhooks and change requests are nothing.
 */
export function createProjectService(deps: {
  store: ProjectStore;
  usage: (key: string, credential: Credential) => Promise<string[]>;
  now?: () => Date;
}) {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());

  async function found(key: string): Promise<Project> {
    const project = await store.get(key);
    if (!project) throw new AppError('NOT_FOUND', `No project "${key}"`);
    return project;
  }

  return {
    get: found,
    /** Whether the project exists (`undefined` for the route guard: the route answers its 404). */
    exists: async (key: string): Promise<string | undefined> => ((await store.get(key)) ? key : undefined),

    /** The projects `principal` holds a role in, each with that role. */
    async listFor(principal: Principal): Promise<{ project: Project; role: NonNullable<ReturnType<typeof roleIn>> }[]> {
      return (await store.list()).flatMap((project) => {
        const role = roleIn(principal, project.key);
        return role ? [{ project, role }] : [];
      });
    },

    async create(key: string, input: ProjectInput & { name: string }): Promise<Project> {
      if ((await store.list()).length >= maxProjects) throw new AppError('CONFLICT', `At most ${maxProjects} projects; delete one first`);
      const at = now();
      const project: Project = { key, name: input.name, description: input.description ?? '', createdAt: at, updatedAt: at, version: 1 };
      if (!(await store.insert(project))) throw new AppError('CONFLICT', `There is already a project "${key}"`);
      return project;
    },

    async update(key: string, change: ProjectInput, ifMatch: string | undefined): Promise<Project> {
      const current = await found(key);
      assertIfMatch(current.version, ifMatch, 'project');
      const next: Project = {
        ...current,
        name: change.name ?? current.name,
        description: change.description ?? current.description,
        updatedAt: now(),
        version: current.version + 1,
      };
      const written = await store.update(next, current.version);
      if (written === 'not-found') throw new AppError('NOT_FOUND', `No project "${key}"`);
      if (written === 'stale') throw new AppError('CONFLICT', `The project "${key}" changed meanwhile; reload it and try again`);
      return next;
    },

    async delete(key: string, credential: Credential): Promise<void> {
      if (key === defaultProject) throw new AppError('CONFLICT', 'The default project cannot be deleted: the original paths mean it');
      await found(key);
      const inUse = await deps.usage(key, credential);
      if (inUse.length > 0) throw new AppError('CONFLICT', `The project "${key}" is not empty: ${inUse.join('; ')}`);
      const deleted = await store.delete(key);
      if (deleted === 'not-found') throw new AppError('NOT_FOUND', `No project "${key}"`);
      if (deleted === 'in-use') throw new AppError('CONFLICT', `The project "${key}" is not empty: something was added to it meanwhile`);
    },
  };
}

export type ProjectService = ReturnType<typeof createProjectService>;
