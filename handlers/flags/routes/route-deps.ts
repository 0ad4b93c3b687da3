import type { ProjectOf, requireRole, UserRole } from '../../../shared/http/authenticate.ts';
import type { ProjectScopes } from './project-scopes.ts';
import type { ProjectService } from '../projects/project-service.ts';
import type { FlagService } from '../flag-service.ts';
import type { EnvironmentService } from '../environments/environment-service.ts';
import type { ChangeRequestService } from '../change-requests/change-request-service.ts';
import type { ScheduleService } from '../schedules/schedule-service.ts';
import type { ReleasePlanService } from '../release-plans/release-plan-service.ts';

export interface FlagRouteDeps {
  service: FlagService;
  schedules: ScheduleService;
  releasePlans: ReleasePlanService;
  environments: EnvironmentService;
  changeRequests: ChangeRequestService;
  projects: ProjectService;
  /** Without `projectOf`: an organisation-level route (the account's role counts). */
  guard: (minimum: UserRole, projectOf?: ProjectOf) => ReturnType<typeof requireRole>;
  inProject: ProjectScopes;
}
