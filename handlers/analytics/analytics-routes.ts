import { requireRole, type TokenVerifier } from '../../shared/http/authenticate.ts';
import type { App } from '../../shared/http/server.ts';
import type { AnalyticsStore } from './analytics-store.ts';
import type { FlagProjects } from './flag-projects.ts';
import { flagOrQueryProject } from './readable-flags.ts';
import { getMetrics } from './routes/get-metrics.ts';
import { getStats } from './routes/get-stats.ts';
import { listEvents } from './routes/list-events.ts';
import { queryAnalytics } from './routes/query.ts';
import type { AnalyticsRouteDeps } from './routes/route-deps.ts';

export function analyticsRoutes(options: { store: AnalyticsStore; verifier: TokenVerifier; projects: FlagProjects; now?: () => number }) {
  const { store, verifier, projects } = options;
  const deps: AnalyticsRouteDeps = {
    store,
    viewerOf: (where) => requireRole(verifier, 'viewer', flagOrQueryProject(projects, where)),
    projects,
    now: options.now ?? Date.now,
  };
  return (app: App) => {
    for (const route of [getStats, getMetrics, listEvents, queryAnalytics]) route(app, deps);
  };
}
