import type { requireRole, UserRole } from '../../../shared/http/authenticate.ts';
import type { FlagService } from '../flag-service.ts';

export interface FlagRouteDeps {
  service: FlagService;
  environments: readonly string[];
  guard: (minimum: UserRole) => ReturnType<typeof requireRole>;
}
