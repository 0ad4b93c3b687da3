import type { requireRole } from '../../../shared/http/authenticate.ts';
import type { AnalyticsStore } from '../analytics-store.ts';
import type { FlagProjects } from '../flag-projects.ts';

export interface AnalyticsRouteDeps {
  store: AnalyticsStore;
  /**
   * Lets through viewers of the project a request is about: its flag's (`flagKey` in the query or the body), else
   * `?project=`'s (see flagOrQueryProject).
   */
  viewerOf: (where: 'query' | 'body') => ReturnType<typeof requireRole>;
  projects: FlagProjects;
  now: () => number;
}
