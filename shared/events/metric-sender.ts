import { Counter, type Registry } from 'prom-client';
import type { QueueProducer } from '../queue/queue.ts';
import { encodeBody } from './evaluation-event.ts';
import { metricMessageSchemaName, type MetricAggregate, type MetricMessage } from './metric-event.ts';

/** Puts metric events' sums on the events queue, one message per ingestion request, before the request is answered. */
export interface MetricSender {
  /** Resolves once the queue accepted the message: only then may the request be acknowledged. */
  send(batchId: string, metrics: MetricAggregate[], events: number): Promise<void>;
}

export function createMetricSender(producer: QueueProducer, registry: Registry): MetricSender {
  const accepted = new Counter({
    name: 'metric_events_accepted_total',
    help: 'Metric (tracking) events the queue accepted',
    registers: [registry],
  });
  const failures = new Counter({
    name: 'metric_events_send_failures_total',
    help: 'Ingestion requests whose metric events the queue refused (answered 503: the client sends them again)',
    registers: [registry],
  });
  return {
    async send(batchId, metrics, events) {
      const message: MetricMessage = { schema: metricMessageSchemaName, batchId, metrics };
      try {
        await producer.send([await encodeBody(message)], { 'content-encoding': 'gzip', schema: metricMessageSchemaName });
      } catch (error) {
        failures.inc();
        throw error;
      }
      accepted.inc(events);
    },
  };
}
