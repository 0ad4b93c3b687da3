import type { FastifyRequest } from 'fastify';
import { projectInQuery, type ProjectOf } from '../../../shared/http/authenticate.ts';
import type { FlagStore } from '../flag-store.ts';
import { AppError } from '../../../shared/http/problem.ts';
import type { WebhookStore } from '../webhooks/webhook-store.ts';

/** Where each flags-service route finds the project it is about, for its guard (`guard(minimum, inProject.flag)`). */
export interface ProjectScopes {
  /** `?project=`: lists and creates (a project that does not exist: 404). */
  query: ProjectOf;
  /** The flag `:key` (archived too; once purged, its audit trail's). */
  flag: ProjectOf;
  /** The change request `:id`. */
  changeRequest: ProjectOf;
  /** The webhook `:id`. */
  webhook: ProjectOf;
  /** `:project` itself (undefined when there is no such project: the route answers 404). */
  project: ProjectOf;
}

const param = (request: FastifyRequest, name: string): string => (request.params as Record<string, string>)[name] ?? '';

export function projectScopes(deps: {
  store: Pick<FlagStore, 'projectOfFlag' | 'getChangeRequest'>;
  webhooks: Pick<WebhookStore, 'get'>;
  projectExists: (key: string) => Promise<string | undefined>;
}): ProjectScopes {
  // Ids are checked by the route's schema after this runs: a malformed one names nothing (and is then answered 400).
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  return {
    async query(request) {
      const project = await projectInQuery(request);
      if (project === undefined || !(await deps.projectExists(project))) throw new AppError('NOT_FOUND', `No project "${project}"`);
      return project;
    },
    flag: (request) => deps.store.projectOfFlag(param(request, 'key')),
    async changeRequest(request) {
      const id = param(request, 'id');
      return uuid.test(id) ? (await deps.store.getChangeRequest(id))?.project : undefined;
    },
    async webhook(request) {
      const id = param(request, 'id');
      return uuid.test(id) ? (await deps.webhooks.get(id))?.project : undefined;
    },
    project: (request) => deps.projectExists(param(request, 'project')),
  };
}
