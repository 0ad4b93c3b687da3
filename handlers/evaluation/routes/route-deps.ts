import type { ConfigurationReplica } from '../configuration-replica.ts';
import type { EventRecorder } from '../../../shared/events/event-publisher.ts';
import type { requireSdkKey } from '../sdk-auth.ts';

export interface EvaluationRouteDeps {
  replica: ConfigurationReplica;
  sdkKey: ReturnType<typeof requireSdkKey>;
  /** Every evaluation of every endpoint is recorded (buffered; never waits on the queue). */
  events: EventRecorder;
}
