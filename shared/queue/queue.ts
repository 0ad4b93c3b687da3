/** A message as every transport hands it to a processor. */
export interface QueueMessage {
  id: string;
  body: string;
  attributes: Record<string, string>;
  /** How many times it was delivered (1 the first time). */
  receiveCount: number;
}

/** The producer side: SQS or BullMQ, the same messages either way. */
export interface QueueProducer {
  /** Sends the bodies in as few requests as the queue allows; resolves once the queue accepted all of them. */
  send(bodies: string[], attributes: Record<string, string>): Promise<void>;
  /** Requests made to the queue since start (the cost of SQS is per request). */
  readonly requests: number;
  close(): Promise<void>;
}

/** The consumer side: hands batches to `handle`, which answers which messages are done (the rest come back). */
export interface QueueConsumer {
  start(handle: (messages: QueueMessage[]) => Promise<Set<string>>): void;
  /** Moves a message that can never be processed aside, so the worker carries on. */
  deadLetter(message: QueueMessage, reason: string): Promise<void>;
  /** Stops receiving, waits for the batch in hand, and closes. */
  stop(): Promise<void>;
}

/** A message that can never be processed (not a transient failure): the worker moves it to the dead-letter queue. */
export class PoisonMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}
