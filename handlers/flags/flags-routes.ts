import { requireRole, type TokenVerifier } from '../../shared/http/authenticate.ts';
import type { App } from '../../shared/http/server.ts';
import type { FlagService } from './flag-service.ts';
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
import type { EnvironmentService } from './environments/environment-service.ts';
import type { FlagRouteDeps } from './routes/route-deps.ts';
import type { ScheduleService } from './schedules/schedule-service.ts';
import type { ReleasePlanService } from './release-plans/release-plan-service.ts';
import { startReleasePlan } from './routes/start-release-plan.ts';
import { listReleasePlans } from './routes/list-release-plans.ts';
import { actOnReleasePlan } from './routes/act-on-release-plan.ts';
import { releasePlanTemplates } from './routes/release-plan-templates.ts';
import { scheduleChange } from './routes/schedule-change.ts';
import { listSchedules } from './routes/list-schedules.ts';
import { updateSchedule } from './routes/update-schedule.ts';
import { cancelSchedule } from './routes/cancel-schedule.ts';

export function flagsRoutes(
  service: FlagService,
  schedules: ScheduleService,
  releasePlans: ReleasePlanService,
  environments: EnvironmentService,
  verifier: TokenVerifier,
) {
  const deps: FlagRouteDeps = { service, schedules, releasePlans, environments, guard: (minimum) => requireRole(verifier, minimum) };
  return (app: App) => {
    for (const route of [
      listEnvironments,
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
