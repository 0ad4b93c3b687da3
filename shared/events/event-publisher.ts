import { context, propagation, trace } from '@opentelemetry/api';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EvaluationContext, EvaluationResult } from '../contracts/evaluation-model.ts';
import type { Logger } from '../logging/logger.ts';
import type { QueueProducer } from '../queue/queue.ts';
import { encodeWithinLimit, maxBodyBytes, maxEventsPerMessage, messageSchemaName, type OutgoingBatch } from './evaluation-event.ts';
import { createEventBuffer } from './event-buffer.ts';

/** Records every evaluation; cheap and synchronous, so the evaluation never waits on the queue. */
export interface EventRecorder {
  /** The evaluations one request made for one context: one flag, or every flag of a bulk request. */
  record(environment: string, results: readonly EvaluationResult[], context: EvaluationContext): void;
}

export const noEvents: EventRecorder = { record() {} };

/** Aim a message at this share of the limit, so the estimate below rarely overshoots it. */
const targetBodyBytes = 0.8 * maxBodyBytes;
// How many raw events go in a message follows the compressed bytes per event of the last one: ~27 for single
// evaluations of random users, under 1 for bulk requests. Bounded so one JSON.stringify never holds the event
// loop long (20,000 single events at once showed in the p99; docs/benchmarks.md), and so a message is a bounded
// amount of work for a worker (KEDA scales the workers on messages waiting; docs/operations.md).
const minEventsPerBatch = 2_000;
const maxEventsPerBatch = Math.min(10_000, maxEventsPerMessage);
/** SendMessageBatch takes up to 10 messages (and 256 KiB): the producer splits what is over either. */
const messagesPerRequest = 10;

/**
 * Buffers evaluation events (bounded; see event-buffer.ts) and sends them every `intervalMs`, or sooner when a
 * batch's worth is waiting, compressed into as few messages and requests as the queue allows. A failed send puts
 * the batch back and is retried; SIGTERM sends what is left before the process exits.
 */
export function createEventPublisher(options: {
  producer: QueueProducer;
  maxBuffered: number;
  intervalMs: number;
  keySalt: string;
  logger: Logger;
  metrics: Registry;
  /** The clock of the events' `at` (a benchmark replaying hours in minutes passes its own; default Date.now). */
  now?: () => number;
}) {
  const { producer, logger } = options;
  const now = options.now ?? Date.now;
  const buffer = createEventBuffer(options.maxBuffered);
  const sent = new Counter({
    name: 'evaluation_events_sent_total',
    help: 'Raw evaluation events accepted by the queue',
    registers: [options.metrics],
  });
  const failures = new Counter({
    name: 'evaluation_events_send_failures_total',
    help: 'Sends to the queue that failed (the batch is kept and retried)',
    registers: [options.metrics],
  });
  new Gauge({
    name: 'evaluation_events_buffered',
    help: 'Raw events waiting to be sent',
    registers: [options.metrics],
    collect() {
      this.set(buffer.size);
    },
  });
  new Gauge({
    name: 'evaluation_events_dropped_raw_total',
    help: 'Raw events dropped for room while the queue was unreachable (still counted)',
    registers: [options.metrics],
    collect() {
      this.set(buffer.stats().droppedRaw);
    },
  });
  new Gauge({
    name: 'evaluation_events_queue_requests_total',
    help: 'Requests made to the queue',
    registers: [options.metrics],
    collect() {
      this.set(producer.requests);
    },
  });

  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> | undefined;
  let soon = false;
  let tickAsked = false;
  // The trace of the first traced request since the last send continues into the message (and the worker).
  let traceCarrier: Record<string, string> | undefined;

  let eventsPerBatch = 8_000;

  /** The batch's message bodies; each encoding tells how many events a message holds at this compression. */
  const bodiesOf = (batch: OutgoingBatch) =>
    encodeWithinLimit(batch, options.keySalt, (events, bytes) => {
      eventsPerBatch = Math.max(minEventsPerBatch, Math.min(maxEventsPerBatch, Math.floor((targetBodyBytes * events) / bytes)));
    });

  async function sendOnce(): Promise<boolean> {
    const first = buffer.take(eventsPerBatch);
    if (!first) return false;
    // While full messages are waiting, up to one request's worth of them (10) go together, encoded in parallel.
    const batches = [first];
    while (batches.length < messagesPerRequest && buffer.size >= eventsPerBatch) batches.push(buffer.take(eventsPerBatch)!);
    const carrier = traceCarrier ?? {};
    traceCarrier = undefined;
    try {
      const bodies = (await Promise.all(batches.map(bodiesOf))).flat();
      await producer.send(bodies, { 'content-encoding': 'gzip', schema: messageSchemaName, ...carrier });
      sent.inc(batches.reduce((n, b) => n + b.events, 0));
      return true;
    } catch (error) {
      // Newest first, so the oldest ends up at the front again.
      for (const batch of batches.toReversed()) buffer.giveBack(batch);
      failures.inc();
      logger.warn({ err: error, buffered: buffer.size }, 'evaluation events not sent; keeping them and retrying');
      return false;
    }
  }

  /**
   * Sends the full messages waiting and, on a tick (`tick`), what is left too. A tick that comes while a send is under
   * way is not lost: that send goes on with it (else the rest would wait a whole interval more: a later count).
   * Stops at the first failure; the next tick retries.
   */
  function send(tick: boolean): Promise<void> {
    if (tick) tickAsked = true;
    sending ??= (async () => {
      try {
        for (;;) {
          const ticked = tickAsked;
          tickAsked = false;
          let ok = true;
          while (ok && buffer.size >= eventsPerBatch) ok = await sendOnce();
          if (ok && ticked) ok = await sendOnce();
          if (!ok || !tickAsked) break;
        }
      } finally {
        sending = undefined;
        soon = false;
      }
    })();
    return sending;
  }

  return {
    record(environment: string, results: readonly EvaluationResult[], evaluationContext: EvaluationContext): void {
      // The results are the engine's shared answers in an array made for this request: kept as they are.
      const key = evaluationContext.targetingKey;
      buffer.record({ environment, targetingKey: typeof key === 'string' ? key : undefined, at: now(), results });
      if (!traceCarrier && trace.getActiveSpan()) {
        traceCarrier = {};
        propagation.inject(context.active(), traceCarrier);
      }
      if (buffer.size >= eventsPerBatch && !soon) {
        soon = true;
        setImmediate(() => void send(false));
      }
    },
    start(): void {
      // Ticks on the clock's multiples of the interval: an interval dividing a minute (4 s) then never makes a
      // message straddle two minutes, and the worker writes one counter item per message, not two.
      const interval = options.intervalMs;
      timer = setTimeout(
        () => {
          void send(true);
          timer = setInterval(() => void send(true), interval);
          timer.unref();
        },
        interval - (Date.now() % interval),
      );
      timer.unref();
    },
    /** Sends what is buffered now, as a tick of the timer does (a benchmark driving its own clock calls it). */
    flush: (): Promise<void> => send(true),
    /** Sends everything buffered (used on SIGTERM); gives up on the first failure rather than hang the shutdown. */
    async stop(): Promise<void> {
      clearTimeout(timer);
      clearInterval(timer);
      await sending;
      while (await sendOnce());
      const left = buffer.stats();
      if (left.buffered > 0 || left.countedOnly > 0) logger.warn(left, 'evaluation events left unsent at shutdown');
      await producer.close();
    },
    stats: () => buffer.stats(),
  };
}

export type EventPublisher = ReturnType<typeof createEventPublisher>;
