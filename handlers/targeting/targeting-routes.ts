import { requireRole, type TokenVerifier } from '../../shared/http/authenticate.ts';
import type { App } from '../../shared/http/server.ts';
import type { TargetingService } from './targeting-service.ts';
import { listRules } from './routes/list-rules.ts';
import { getRule } from './routes/get-rule.ts';
import { createRule } from './routes/create-rule.ts';
import { updateRule } from './routes/update-rule.ts';
import { deleteRule } from './routes/delete-rule.ts';
import { reorderRules } from './routes/reorder-rules.ts';
import { copyRules } from './routes/copy-rules.ts';
import { setRules } from './routes/set-rules.ts';
import { listSegments } from './routes/list-segments.ts';
import { getSegment } from './routes/get-segment.ts';
import { createSegment } from './routes/create-segment.ts';
import { updateSegment } from './routes/update-segment.ts';
import { deleteSegment } from './routes/delete-segment.ts';
import { matchTargeting } from './routes/match.ts';
import { getTargetingHistory } from './routes/get-history.ts';
import type { TargetingRouteDeps } from './routes/route-deps.ts';

export function targetingRoutes(service: TargetingService, verifier: TokenVerifier) {
  const deps: TargetingRouteDeps = { service, guard: (minimum) => requireRole(verifier, minimum) };
  return (app: App) => {
    for (const route of [
      listRules,
      reorderRules,
      copyRules,
      setRules,
      getRule,
      createRule,
      updateRule,
      deleteRule,
      listSegments,
      getSegment,
      createSegment,
      updateSegment,
      deleteSegment,
      matchTargeting,
      getTargetingHistory,
    ])
      route(app, deps);
  };
}
