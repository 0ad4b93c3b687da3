import type { requireRole, UserRole } from '../../../shared/http/authenticate.ts';
import type { AnalyticsStore } from '../analytics-store.ts';

export interface AnalyticsRouteDeps {
  store: AnalyticsStore;
  guard: (minimum: UserRole) => ReturnType<typeof requireRole>;
  now: () => number;
}
