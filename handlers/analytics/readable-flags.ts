import type { FastifyRequest } from 'fastify';
import { Compile } from 'typebox/compile';
import { FlagKey } from '../../shared/contracts/flag-model.ts';
import { callerCredential, projectInQuery, projectOfRequest, type ProjectOf } from '../../shared/http/authenticate.ts';
import { AppError } from '../../shared/http/problem.ts';
import type { FlagProjects } from './flag-projects.ts';

const isFlagKey = Compile(FlagKey);

/**
 * The project an analytics request is about, for its guard: the project of the flag its `flagKey` names (in the
 * query, or in the body of a POST — the guard then runs once the body is read), else `?project=` (the default
 * project when absent). Undefined when there is no such flag: the route answers as for a flag with no events.
 */
export function flagOrQueryProject(projects: FlagProjects, where: 'query' | 'body'): ProjectOf {
  return async (request) => {
    const input: unknown = where === 'query' ? request.query : request.body;
    const flagKey = typeof input === 'object' && input !== null ? (input as { flagKey?: unknown }).flagKey : undefined;
    if (flagKey === undefined) return projectInQuery(request);
    // A malformed key names no flag: the route's schema answers it 400, the flags service need not be asked.
    if (typeof flagKey !== 'string' || !isFlagKey.Check(flagKey)) return undefined;
    return projects.projectOfFlag(flagKey, callerCredential(request));
  };
}

/**
 * Whether a request about one flag may read its counts: the flag is there (its project is the one the guard let the
 * caller into) and, when `?project=` names a project, it is that project's.
 */
export function mayReadFlag(request: FastifyRequest, askedProject: string | undefined): boolean {
  return request.project !== undefined && (askedProject === undefined || askedProject === request.project);
}

/** The keys of the flags of the project a request over many flags is about (active and archived); 404 when there is no such project. */
export async function flagKeysOfRequest(request: FastifyRequest, projects: FlagProjects): Promise<ReadonlySet<string>> {
  const project = projectOfRequest(request);
  const keys = await projects.flagKeysOf(project, callerCredential(request));
  if (!keys) throw new AppError('NOT_FOUND', `No project "${project}"`);
  return keys;
}
