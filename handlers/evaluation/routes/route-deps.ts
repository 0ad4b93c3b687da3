import type { ConfigurationReplica } from '../configuration-replica.ts';
import type { EventRecorder } from '../../../shared/events/event-publisher.ts';
import type { requireSdkKey } from '../sdk-auth.ts';
import type { SdkKeyRecord } from '../../../shared/contracts/access-model.ts';
import type { StreamHub } from '../event-streams/stream-hub.ts';
import type { IngestSender } from '../../../shared/events/ingest-sender.ts';
import type { CompressedBodies } from '../../../shared/http/compression.ts';

/** OFREP event streams, when this instance serves them: the hub of open streams, and the keys their tokens name. */
export interface EventStreams {
  hub: StreamHub;
  keyById: (id: string) => SdkKeyRecord | undefined;
}

export interface EvaluationRouteDeps {
  replica: ConfigurationReplica;
  /** Admits server keys only (ToggleMaster's own evaluation API). */
  serverKey: ReturnType<typeof requireSdkKey>;
  /** Admits server and client keys (the OFREP routes, which show a client key only client-visible flags). */
  anyKey: ReturnType<typeof requireSdkKey>;
  /** Every evaluation of every endpoint is recorded (buffered; never waits on the queue). */
  events: EventRecorder;
  eventStreams?: EventStreams | undefined;
  /** Where tracking events go (the events queue); none when events are not collected. */
  ingest?: IngestSender | undefined;
  /** Compressed answers by ETag and coding (OFREP bulk, the SDK configuration), bounded in bytes. */
  compressed: CompressedBodies;
}
