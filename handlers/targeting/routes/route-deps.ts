import type { requireRole, UserRole } from '../../../shared/http/authenticate.ts';
import type { TargetingService } from '../targeting-service.ts';

export interface TargetingRouteDeps {
  service: TargetingService;
  guard: (minimum: UserRole) => ReturnType<typeof requireRole>;
}
