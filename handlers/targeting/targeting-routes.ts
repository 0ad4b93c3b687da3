import {
  holds,
  principalOf,
  requireRole,
  roleIn,
  type Principal,
  type ProjectOf,
  type TokenVerifier,
  type UserRole,
} from '../../shared/http/authenticate.ts';
import { AppError } from '../../shared/http/problem.ts';
import type { App } from '../../shared/http/server.ts';
import type { TargetingService } from './targeting-service.ts';
import { listRules } from './routes/list-rules.ts';
import { getRule } from './routes/get-rule.ts';
import { createRule } from './routes/create-rule.ts';
import { updateRule } from './routes/update-rule.ts';
import { deleteRule } from './routes/delete-rule.ts';
import { reorderRules } from './routes/reorder-rules.ts';
import { copyRules } from './routes/copy-rules.ts';
import { setRules } from './routes/set-rules.ts';
import { listSegments } from './routes/list-segments.ts';
import { getSegment } from './routes/get-segment.ts';
import { createSegment } from './routes/create-segment.ts';
import { updateSegment } from './routes/update-segment.ts';
import { changeSegmentKeys } from './routes/change-segment-keys.ts';
import { deleteSegment } from './routes/delete-segment.ts';
import { matchTargeting } from './routes/match.ts';
import { getTargetingHistory } from './routes/get-history.ts';
import type { TargetingRouteDeps } from './routes/route-deps.ts';
import { targetingScopes } from './routes/project-scopes.ts';

/** What requireRole refuses a caller short of `minimum` in `project`, in the same words. */
function assertRoleIn(principal: Principal, project: string, minimum: UserRole): void {
  if (holds(principal, project, minimum)) return;
  const role = roleIn(principal, project);
  throw new AppError(
    'FORBIDDEN',
    role ? `This needs the ${minimum} role in project ${project}; you are ${role}` : `You have no role in project ${project}`,
  );
}

/** Before the body is read its flag is not known: the caller need only hold the role in some project (as for a 404). */
const notKnownYet: ProjectOf = () => undefined;

export function targetingRoutes(service: TargetingService, verifier: TokenVerifier) {
  const inProject = targetingScopes(service);
  const deps: TargetingRouteDeps = {
    service,
    guard: (minimum, projectOf) => requireRole(verifier, minimum, projectOf),
    inProject,
    guardFlagInBody: (minimum) => ({
      onRequest: requireRole(verifier, minimum, notKnownYet),
      async preValidation(request) {
        const project = await inProject.flagInBody(request);
        // No such flag: the route answers 400 naming it (and the service, given no project, acts on no flag).
        if (project === undefined) return;
        assertRoleIn(principalOf(request), project, minimum);
        request.project = project;
      },
    }),
  };
  return (app: App) => {
    for (const route of [
      listRules,
      reorderRules,
      copyRules,
      setRules,
      getRule,
      createRule,
      updateRule,
      deleteRule,
      listSegments,
      getSegment,
      createSegment,
      updateSegment,
      changeSegmentKeys,
      deleteSegment,
      matchTargeting,
      getTargetingHistory,
    ])
      route(app, deps);
  };
}
