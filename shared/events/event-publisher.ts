import { context, propagation, trace } from '@opentelemetry/api';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { EvaluationContext, EvaluationResult } from '../contracts/evaluation-model.ts';
import type { Logger } from '../logging/logger.ts';
import type { QueueProducer } from '../queue/queue.ts';
import { encodeBatch, hashTargetingKey, type EventBatch } from './evaluation-event.ts';
import { createEventBuffer } from './event-buffer.ts';

/** Records every evaluation; cheap and synchronous, so the evaluation never waits on the queue. */
export interface EventRecorder {
  record(environment: string, result: EvaluationResult, context: EvaluationContext): void;
}

export const noEvents: EventRecorder = { record() {} };

/** A message body must stay under SQS's 256 KiB with room for attributes. */
const maxBodyBytes = 240 * 1024;
// ~27 bytes an event once compressed: 8,000 fit one message, so a batch is encoded once and the event loop is
// never held long by one JSON.stringify (20,000 at once showed in the p99; docs/benchmarks.md).
const eventsPerBatch = 8_000;

/**
 * Buffers evaluation events (bounded; see event-buffer.ts) and sends them every `intervalMs`, or sooner when a
 * batch's worth is waiting, compressed into as few messages and requests as the queue allows. A failed send puts
 * the batch back and is retried; SIGTERM sends what is left before the process exits.
 */
export function createEventPublisher(options: { producer: QueueProducer; maxBuffered: number; intervalMs: number; keySalt: string; logger: Logger; metrics: Registry }) {
  const { producer, logger } = options;
  const buffer = createEventBuffer(options.maxBuffered);
  const sent = new Counter({ name: 'evaluation_events_sent_total', help: 'Raw evaluation events accepted by the queue', registers: [options.metrics] });
  const failures = new Counter({ name: 'evaluation_events_send_failures_total', help: 'Sends to the queue that failed (the batch is kept and retried)', registers: [options.metrics] });
  new Gauge({ name: 'evaluation_events_buffered', help: 'Raw events waiting to be sent', registers: [options.metrics], collect() { this.set(buffer.size); } });
  new Gauge({ name: 'evaluation_events_dropped_raw_total', help: 'Raw events dropped for room while the queue was unreachable (still counted)', registers: [options.metrics], collect() { this.set(buffer.stats().droppedRaw); } });
  new Gauge({ name: 'evaluation_events_queue_requests_total', help: 'Requests made to the queue', registers: [options.metrics], collect() { this.set(producer.requests); } });

  let timer: NodeJS.Timeout | undefined;
  let sending: Promise<void> | undefined;
  let soon = false;
  // The trace of the first traced request since the last send continues into the message (and the worker).
  let traceCarrier: Record<string, string> | undefined;
  // A bulk evaluation records one event per flag for the same context: hash its targeting key once.
  let lastKey: string | undefined;
  let lastHash: string | null = null;

  async function bodiesOf(batch: EventBatch): Promise<string[]> {
    const body = await encodeBatch(batch);
    if (Buffer.byteLength(body) <= maxBodyBytes || batch.events.length < 2) return [body];
    const half = Math.ceil(batch.events.length / 2);
    const [a, b] = [
      { ...batch, batchId: `${batch.batchId}a`, events: batch.events.slice(0, half) },
      { ...batch, batchId: `${batch.batchId}b`, events: batch.events.slice(half), counts: [] },
    ];
    return [...(await bodiesOf(a)), ...(await bodiesOf(b))];
  }

  async function sendOnce(): Promise<boolean> {
    const batch = buffer.take(eventsPerBatch);
    if (!batch) return false;
    const carrier = traceCarrier ?? {};
    traceCarrier = undefined;
    try {
      await producer.send(await bodiesOf(batch), { 'content-encoding': 'gzip', schema: batch.schema, ...carrier });
      sent.inc(batch.events.length);
      return true;
    } catch (error) {
      buffer.giveBack(batch);
      failures.inc();
      logger.warn({ err: error instanceof Error ? error.message : String(error), buffered: buffer.size }, 'evaluation events not sent; keeping them and retrying');
      return false;
    }
  }

  function send(): Promise<void> {
    sending ??= (async () => {
      try {
        // Keep going while full batches are waiting; stop at the first failure (the timer retries).
        while ((await sendOnce()) && buffer.size >= eventsPerBatch);
      } finally {
        sending = undefined;
        soon = false;
      }
    })();
    return sending;
  }

  return {
    record(environment: string, result: EvaluationResult, evaluationContext: EvaluationContext): void {
      const key = evaluationContext.targetingKey;
      if (key !== lastKey) {
        lastKey = key;
        lastHash = hashTargetingKey(key, options.keySalt);
      }
      buffer.record([result.flagKey, environment, result.variant ?? null, result.reason, result.ruleId ?? null, lastHash, Date.now()]);
      if (!traceCarrier && trace.getActiveSpan()) {
        traceCarrier = {};
        propagation.inject(context.active(), traceCarrier);
      }
      if (buffer.size >= eventsPerBatch && !soon) {
        soon = true;
        setImmediate(() => void send());
      }
    },
    start(): void {
      timer = setInterval(() => void send(), options.intervalMs);
      timer.unref();
    },
    /** Sends everything buffered (used on SIGTERM); gives up on the first failure rather than hang the shutdown. */
    async stop(): Promise<void> {
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
