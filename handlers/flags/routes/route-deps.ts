import type { requireRole, UserRole } from '../../../shared/http/authenticate.ts';
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
  guard: (minimum: UserRole) => ReturnType<typeof requireRole>;
}
