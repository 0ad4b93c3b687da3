import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { Registry } from 'prom-client';
import { createEventPublisher } from '../events/event-publisher.ts';
import { createLogger } from '../logging/logger.ts';
import type { QueueConsumer, QueueMessage, QueueProducer } from './queue.ts';
import { runQueueWorker } from './worker.ts';

describe('trace context through the events queue', () => {
  const sdk = new NodeSDK({ traceExporter: new InMemorySpanExporter(), instrumentations: [] });
  beforeAll(() => sdk.start());
  afterAll(() => sdk.shutdown());

  it('continues the trace of the evaluation request in the worker that processes its batch', async () => {
    const sent: { bodies: string[]; attributes: Record<string, string> }[] = [];
    const producer: QueueProducer = {
      send: async (bodies, attributes) => void sent.push({ bodies, attributes }),
      requests: 0,
      close: async () => {},
    };
    const logger = createLogger('silent', 'trace-test');
    const publisher = createEventPublisher({
      producer,
      maxBuffered: 100,
      intervalMs: 60_000,
      keySalt: 's',
      logger,
      metrics: new Registry(),
    });

    const tracer = trace.getTracer('test');
    const requestTraceId = tracer.startActiveSpan('POST /evaluate', (span) => {
      publisher.record('production', [{ flagKey: 'f', variant: 'on', value: true, reason: 'STATIC' }], { targetingKey: 'u' });
      span.end();
      return span.spanContext().traceId;
    });
    await publisher.stop();
    expect(sent[0]?.attributes.traceparent).toContain(requestTraceId);

    let processedIn: string | undefined;
    let handled: Promise<Set<string>> | undefined;
    const consumer: QueueConsumer = {
      start(handle) {
        const message: QueueMessage = { id: 'm1', body: sent[0]!.bodies[0]!, attributes: sent[0]!.attributes, receiveCount: 1 };
        handled = handle([message]);
      },
      deadLetter: async () => {},
      stop: async () => {},
    };
    runQueueWorker({
      name: 'test',
      consumer,
      logger,
      metrics: new Registry(),
      process: async () => void (processedIn = trace.getActiveSpan()?.spanContext().traceId),
    });
    expect(await handled).toEqual(new Set(['m1']));
    expect(processedIn).toBe(requestTraceId);
  });
});
