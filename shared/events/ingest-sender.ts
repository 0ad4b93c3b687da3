import { Counter, type Registry } from 'prom-client';
import type { QueueProducer } from '../queue/queue.ts';
import { encodeBody, encodeWithinLimit, messageSchemaName, type OutgoingBatch } from './evaluation-event.ts';
import { metricMessageSchemaName, type MetricAggregate, type MetricMessage } from './metric-event.ts';

/**
 * Puts what SDKs report — metric events, evaluations made in-process — on the events queue, one request's worth at a
 * time, before the request is answered: an acknowledged event is on the queue. Each message carries the request's
 * batch id, so a request sent again (its Idempotency-Key) writes the same items.
 */
export interface IngestSender {
  sendMetrics(batchId: string, metrics: MetricAggregate[], events: number): Promise<void>;
  sendEvaluations(batch: OutgoingBatch): Promise<void>;
}

export function createIngestSender(producer: QueueProducer, options: { keySalt: string; metrics: Registry }): IngestSender {
  const labelNames = ['kind'] as const;
  const accepted = new Counter({
    name: 'ingested_events_total',
    help: 'Events reported by SDKs that the queue accepted, by kind (metric: tracking events; evaluation: evaluations made in-process)',
    labelNames,
    registers: [options.metrics],
  });
  const failures = new Counter({
    name: 'ingest_send_failures_total',
    help: 'Ingestion requests the queue refused (answered 503: the client sends them again)',
    labelNames,
    registers: [options.metrics],
  });
  async function send(kind: 'metric' | 'evaluation', bodies: string[], schema: string, events: number): Promise<void> {
    try {
      await producer.send(bodies, { 'content-encoding': 'gzip', schema });
    } catch (error) {
      failures.inc({ kind });
      throw error;
    }
    accepted.inc({ kind }, events);
  }
  return {
    async sendMetrics(batchId, metrics, events) {
      const message: MetricMessage = { schema: metricMessageSchemaName, batchId, metrics };
      await send('metric', [await encodeBody(message)], metricMessageSchemaName, events);
    },
    async sendEvaluations(batch) {
      const counted = batch.counts.reduce((n, c) => n + c[6], 0);
      await send('evaluation', await encodeWithinLimit(batch, options.keySalt), messageSchemaName, batch.events + counted);
    },
  };
}
