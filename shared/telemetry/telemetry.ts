import { register } from 'node:module';
import type { Config } from '../config/config.ts';
import { ofrepEventStreamPath } from '../contracts/ofrep/event-stream.ts';

/**
 * OpenTelemetry is started only when an OTLP endpoint is configured; otherwise the API stays a no-op and costs
 * nothing on the hot path. The SDK reads the standard OTEL_* variables itself (headers, protocol, sampler).
 */
export async function startTelemetry(
  config: Pick<Config, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>,
  serviceName: string,
): Promise<() => Promise<void>> {
  if (!config.OTEL_EXPORTER_OTLP_ENDPOINT) return async () => {};
  // ES modules are patched through a loader hook, which must be in place before the patched modules are imported.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  // Loaded only when tracing is on: the SDK alone costs ~150 ms of start-up and ~50 MB (docs/benchmarks.md).
  const [
    { NodeSDK },
    { OTLPTraceExporter },
    { HttpInstrumentation },
    { PgInstrumentation },
    { IORedisInstrumentation },
    { AwsInstrumentation },
  ] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
    import('@opentelemetry/instrumentation-ioredis'),
    // SQS and DynamoDB calls become spans, so a trace reaches from the evaluation to the DynamoDB write.
    import('@opentelemetry/instrumentation-aws-sdk'),
  ]);
  const sdk = new NodeSDK({
    serviceName: config.OTEL_SERVICE_NAME ?? `togglemaster-${serviceName}`,
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [
      // An event stream's URL holds the token that opens it (never recorded), and its span would last for hours.
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => request.url?.startsWith(ofrepEventStreamPath) === true }),
      new PgInstrumentation(),
      new IORedisInstrumentation(),
      new AwsInstrumentation(),
    ],
  });
  sdk.start();
  return () => sdk.shutdown();
}
