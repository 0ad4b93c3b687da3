import { pino, type Logger, type LoggerOptions } from 'pino';
import { trace } from '@opentelemetry/api';
import { sourceMappedStack } from './source-mapped-stack.ts';

export type { Logger };

/** Paths whose values never reach a log line, whatever a handler or library logs. */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  '*.password',
  '*.key',
  '*.accessToken',
  '*.token',
  '*.secret',
  'password',
  'accessToken',
];

/** pino's error serializer, with the stack's frames in the bundle mapped to our sources (source-mapped-stack.ts). */
function serializeError(error: Error): ReturnType<typeof pino.stdSerializers.err> {
  const serialized = pino.stdSerializers.err(error);
  if (typeof serialized.stack === 'string') serialized.stack = sourceMappedStack(serialized.stack);
  return serialized;
}

export function loggerOptions(level: string, name: string): LoggerOptions {
  return {
    level,
    name,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    formatters: { level: (label) => ({ level: label }) },
    serializers: { err: serializeError },
    // Every line written inside a traced request carries its trace and span ids, so logs and traces join up.
    mixin() {
      const span = trace.getActiveSpan();
      if (!span) return {};
      const { traceId, spanId } = span.spanContext();
      return { traceId, spanId };
    },
  };
}

export function createLogger(level: string, name: string): Logger {
  return pino(loggerOptions(level, name));
}
