import type { App } from '../../shared/http/server.ts';
import type { SdkKeyVerifier } from '../../shared/http/sdk-keys.ts';
import type { ConfigurationReplica } from './configuration-replica.ts';
import type { EventRecorder } from '../../shared/events/event-publisher.ts';
import { requireSdkKey } from './sdk-auth.ts';
import { evaluate } from './routes/evaluate.ts';
import { evaluateBulk } from './routes/evaluate-bulk.ts';
import { ofrepEvaluateFlag } from './routes/ofrep-evaluate-flag.ts';
import { ofrepEvaluateFlags } from './routes/ofrep-evaluate-flags.ts';
import type { EvaluationRouteDeps, EventStreams } from './routes/route-deps.ts';
import { ofrepEventStream } from './routes/ofrep-event-stream.ts';
import { trackEvents } from './routes/track-events.ts';
import { reportEvaluations } from './routes/report-evaluations.ts';
import { sdkConfiguration } from './routes/sdk-configuration.ts';
import type { IngestSender } from '../../shared/events/ingest-sender.ts';
import cors from '@fastify/cors';
import { createCompressedBodies } from '../../shared/http/compression.ts';

/** What the compressed answers kept for reuse may hold (a 50-flag bulk answer is ~1.5 KB compressed). */
const compressedBodiesMaxBytes = 4 * 2 ** 20;

export function evaluationRoutes(options: {
  replica: ConfigurationReplica;
  sdkKeys: SdkKeyVerifier;
  events: EventRecorder;
  eventStreams?: EventStreams | undefined;
  ingest?: IngestSender | undefined;
  /** `*` or a comma-separated list of the web origins whose pages may call evaluation; none when unset. */
  corsAllowedOrigins?: string | undefined;
}) {
  const deps: EvaluationRouteDeps = {
    replica: options.replica,
    serverKey: requireSdkKey(options.sdkKeys, ['server']),
    anyKey: requireSdkKey(options.sdkKeys, ['server', 'client']),
    events: options.events,
    eventStreams: options.eventStreams,
    ingest: options.ingest,
    compressed: createCompressedBodies(compressedBodiesMaxBytes),
  };
  return async (app: App) => {
    if (options.corsAllowedOrigins) await app.register(cors, corsOptions(options.corsAllowedOrigins));
    for (const route of [
      evaluate,
      evaluateBulk,
      ofrepEvaluateFlag,
      ofrepEvaluateFlags,
      ofrepEventStream,
      trackEvents,
      reportEvaluations,
      sdkConfiguration,
    ])
      route(app, deps);
  };
}

/**
 * Browsers may call evaluation from the allowed origins: the preflight is answered (OFREP's headers, If-None-Match
 * included), the ETag is readable by the page, and credentials are never allowed (keys travel in headers).
 */
function corsOptions(allowed: string) {
  const origins = allowed.split(',').map((origin) => origin.trim());
  return {
    origin: origins.includes('*') ? '*' : origins,
    methods: ['GET', 'POST'],
    allowedHeaders: ['content-type', 'authorization', 'x-api-key', 'if-none-match', 'last-event-id', 'idempotency-key'],
    // Content-Encoding and Vary are for the browser itself, which decodes; the page reads the ETag.
    exposedHeaders: ['etag', 'retry-after'],
    credentials: false,
    maxAge: 600,
  };
}
