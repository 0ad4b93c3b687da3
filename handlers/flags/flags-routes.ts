import { requireRole, type TokenVerifier } from '../../shared/http/authenticate.ts';
import type { App } from '../../shared/http/server.ts';
import { listFlags } from './routes/list-flags.ts';
import { createFlag } from './routes/create-flag.ts';
import { getFlag } from './routes/get-flag.ts';
import { updateFlag } from './routes/update-flag.ts';
import { deleteFlag } from './routes/delete-flag.ts';
import { restoreFlag } from './routes/restore-flag.ts';
import { purgeFlag } from './routes/purge-flag.ts';
import { updateFlagEnvironment } from './routes/update-flag-environment.ts';
import { copyFlagEnvironment } from './routes/copy-flag-environment.ts';
import { getFlagHistory } from './routes/get-flag-history.ts';
import { listReleaseEvents } from './routes/list-release-events.ts';
import { listEnvironments } from './routes/list-environments.ts';
import { createEnvironment } from './routes/create-environment.ts';
import { updateEnvironment } from './routes/update-environment.ts';
import { reorderEnvironments } from './routes/reorder-environments.ts';
import { deleteEnvironment } from './routes/delete-environment.ts';
import { openChangeRequest } from './routes/open-change-request.ts';
import { listChangeRequests } from './routes/list-change-requests.ts';
import { listFlagChangeRequests } from './routes/list-flag-change-requests.ts';
import { getChangeRequest } from './routes/get-change-request.ts';
import { actOnChangeRequest } from './routes/act-on-change-request.ts';
import { commentOnChangeRequest } from './routes/comment-on-change-request.ts';
import type { FlagRouteDeps } from './routes/route-deps.ts';
import { startReleasePlan } from './routes/start-release-plan.ts';
import { listReleasePlans } from './routes/list-release-plans.ts';
import { actOnReleasePlan } from './routes/act-on-release-plan.ts';
import { releasePlanTemplates } from './routes/release-plan-templates.ts';
import { scheduleChange } from './routes/schedule-change.ts';
import { listSchedules } from './routes/list-schedules.ts';
import { updateSchedule } from './routes/update-schedule.ts';
import { cancelSchedule } from './routes/cancel-schedule.ts';
import { listProjects } from './routes/list-projects.ts';
import { createProject } from './routes/create-project.ts';
import { getProject } from './routes/get-project.ts';
import { updateProject } from './routes/update-project.ts';
import { deleteProject } from './routes/delete-project.ts';

export function flagsRoutes(services: Omit<FlagRouteDeps, 'guard'>, verifier: TokenVerifier) {
  const deps: FlagRouteDeps = { ...services, guard: (minimum, projectOf) => requireRole(verifier, minimum, projectOf) };
  return (app: App) => {
    for (const route of [
      listProjects,
      createProject,
      getProject,
      updateProject,
      deleteProject,
      listEnvironments,
      listChangeRequests,
      getChangeRequest,
      actOnChangeRequest,
      commentOnChangeRequest,
      openChangeRequest,
      listFlagChangeRequests,
      createEnvironment,
      reorderEnvironments,
      updateEnvironment,
      deleteEnvironment,
      listFlags,
      createFlag,
      getFlag,
      updateFlag,
      deleteFlag,
      restoreFlag,
      purgeFlag,
      updateFlagEnvironment,
      copyFlagEnvironment,
      getFlagHistory,
      listReleaseEvents,
      scheduleChange,
      listSchedules,
      updateSchedule,
      cancelSchedule,
      startReleasePlan,
      listReleasePlans,
      actOnReleasePlan,
      releasePlanTemplates,
    ])
      route(app, deps);
  };
}
