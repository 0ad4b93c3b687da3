import type { ConfigurationReplica } from '../configuration-replica.ts';
import type { EventRecorder } from '../../../shared/events/event-publisher.ts';
import type { requireSdkKey } from '../sdk-auth.ts';

export interface EvaluationRouteDeps {
  replica: ConfigurationReplica;
  /** Admits server keys only (ToggleMaster's own evaluation API). */
  serverKey: ReturnType<typeof requireSdkKey>;
  /** Admits server and client keys (the OFREP routes, which show a client key only client-visible flags). */
  anyKey: ReturnType<typeof requireSdkKey>;
  /** Every evaluation of every endpoint is recorded (buffered; never waits on the queue). */
  events: EventRecorder;
}
