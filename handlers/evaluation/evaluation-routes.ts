import type { App } from '../../shared/http/server.ts';
import type { SdkKeyVerifier } from '../../shared/http/sdk-keys.ts';
import type { ConfigurationReplica } from './configuration-replica.ts';
import type { EventRecorder } from '../../shared/events/event-publisher.ts';
import { requireSdkKey } from './sdk-auth.ts';
import { evaluate } from './routes/evaluate.ts';
import { evaluateBulk } from './routes/evaluate-bulk.ts';
import { ofrepEvaluateFlag } from './routes/ofrep-evaluate-flag.ts';
import { ofrepEvaluateFlags } from './routes/ofrep-evaluate-flags.ts';
import type { EvaluationRouteDeps } from './routes/route-deps.ts';

export function evaluationRoutes(replica: ConfigurationReplica, sdkKeys: SdkKeyVerifier, events: EventRecorder) {
  const deps: EvaluationRouteDeps = {
    replica,
    serverKey: requireSdkKey(sdkKeys, ['server']),
    anyKey: requireSdkKey(sdkKeys, ['server', 'client']),
    events,
  };
  return (app: App) => {
    for (const route of [evaluate, evaluateBulk, ofrepEvaluateFlag, ofrepEvaluateFlags]) route(app, deps);
  };
}
