import { requireRole, type TokenVerifier } from '../../shared/http/authenticate.ts';
import type { App } from '../../shared/http/server.ts';
import type { AnalyticsStore } from './analytics-store.ts';
import { getMetrics } from './routes/get-metrics.ts';
import { getStats } from './routes/get-stats.ts';
import { listEvents } from './routes/list-events.ts';
import { queryAnalytics } from './routes/query.ts';
import type { AnalyticsRouteDeps } from './routes/route-deps.ts';

export function analyticsRoutes(store: AnalyticsStore, verifier: TokenVerifier, now: () => number = Date.now) {
  const deps: AnalyticsRouteDeps = { store, guard: (minimum) => requireRole(verifier, minimum), now };
  return (app: App) => {
    for (const route of [getStats, getMetrics, listEvents, queryAnalytics]) route(app, deps);
  };
}
