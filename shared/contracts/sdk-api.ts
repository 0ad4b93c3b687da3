import { Type, type Static } from 'typebox';
import { FlagKey } from './flag-model.ts';
import { MetricName } from './flags-api.ts';
import { reasons } from './evaluation-model.ts';

/**
 * What in-process SDKs (the Node OpenFeature provider, packages/openfeature-provider) exchange with the evaluation
 * service: the configuration they evaluate from, and the evaluations and metric events they report. Server keys only
 * for the configuration (it holds every rule and segment); the provider bundles the engine that compiles it.
 */

const Context = Type.Object(
  { targetingKey: Type.Optional(Type.String({ maxLength: 256 })) },
  { additionalProperties: true, maxProperties: 200, description: 'targetingKey plus any attributes' },
);

/** One stream to follow for changes (OFREP 0.3's `eventStreams` member: the same stream the OFREP providers follow). */
export const SdkEventStreamSchema = Type.Object({
  type: Type.Literal('sse'),
  endpoint: Type.Object({ requestUri: Type.String({ description: 'Path and query (with the token that authorizes it)' }) }),
  inactivityDelaySec: Type.Integer({ minimum: 1 }),
});

/**
 * GET /sdk/v1/configuration: the SDK key's environment as one document — each flag's configuration in that environment
 * (`FlagConfiguration` of shared/contracts/evaluation-model.ts: key, type, variants, salt, version, clientVisible,
 * state, rules) and every segment — which the engine compiles as the evaluation service does. `ETag` is a hash of the
 * document (the same on every instance); `If-None-Match` answers 304. `?flagConfigEtag=` (a change event's etag) waits
 * up to 1 s until this instance applied that change, as the OFREP bulk evaluation does. The ETag covers the
 * configuration, not the stream's token (valid an hour): for a new token (the stream refused the old one), fetch
 * without If-None-Match.
 */
export const SdkConfigurationSchema = Type.Object({
  environment: Type.String(),
  flags: Type.Array(Type.Unknown({ description: 'A FlagConfiguration (shared/contracts/evaluation-model.ts)' })),
  segments: Type.Array(Type.Unknown({ description: 'A Segment (shared/contracts/targeting-model.ts)' })),
  eventStreams: Type.Optional(Type.Array(SdkEventStreamSchema)),
});

/** The engine's reason (what analytics count by; an SDK's own reasons, such as STALE, are not reported). */
const Reason = Type.Enum([...reasons]);

/** The most evaluations (raw) and counted groups one request may carry. */
export const maxReportedEvaluations = 5_000;
export const maxReportedCounts = 10_000;

/** One evaluation made in-process, as the service would record it had it made it. */
export const ReportedEvaluationSchema = Type.Object(
  {
    at: Type.Integer({ minimum: 0, description: 'When (ms since the epoch)' }),
    targetingKey: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    flagKey: Type.String({ minLength: 1, maxLength: 256 }),
    variant: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    reason: Reason,
    ruleId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);

/** Evaluations counted without their raw events (the SDK's buffer of raw events was full): exact, but no targeting key. */
export const ReportedCountSchema = Type.Object(
  {
    minute: Type.Integer({ minimum: 0, multipleOf: 60_000, description: 'Start of the minute (ms since the epoch)' }),
    flagKey: Type.String({ minLength: 1, maxLength: 256 }),
    variant: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    reason: Reason,
    ruleId: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    count: Type.Integer({ minimum: 1 }),
  },
  { additionalProperties: false },
);

/**
 * POST /events/v1/evaluations (server keys): evaluations an in-process SDK made, put on the same events queue in the
 * same message schema as the service's own, before the 202. With `Idempotency-Key`, a batch sent again counts once.
 * Times must be within the last 7 days (and at most 5 minutes ahead).
 */
export const ReportEvaluationsSchema = Type.Object(
  {
    evaluations: Type.Array(ReportedEvaluationSchema, { maxItems: maxReportedEvaluations }),
    counts: Type.Optional(Type.Array(ReportedCountSchema, { maxItems: maxReportedCounts })),
  },
  { additionalProperties: false },
);
export type ReportEvaluations = Static<typeof ReportEvaluationsSchema>;

/** Values beyond this are surely a unit mistake; bounded, their squares still add up exactly enough in a double. */
export const maxMetricValue = 1e12;

/** One metric event (an OpenFeature tracking event) for the guardrails of release plans. */
export const TrackEventSchema = Type.Object(
  {
    name: MetricName,
    flagKey: FlagKey,
    variant: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: 'The variant the user was served; left out, it is evaluated from the context',
      }),
    ),
    value: Type.Optional(
      Type.Number({
        minimum: -maxMetricValue,
        maximum: maxMetricValue,
        description: 'The measurement (an error: 1, a success: 0; a latency in ms…); 1 when left out',
      }),
    ),
    context: Type.Optional(Context),
    at: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          'When it happened (ms since the epoch; within the last 7 days): default, when the request arrives. Sent with an Idempotency-Key, a request sent again lands in the same minute, so it counts once',
      }),
    ),
  },
  { additionalProperties: false },
);

/** How far back an SDK may report (it kept events while the service was away), and how far ahead its clock may be. */
export const maxReportAgeMs = 7 * 86_400_000;
export const maxReportAheadMs = 5 * 60_000;

/** POST /events/v1/track (server and client keys): up to 1,000 metric events, queued before the 202. */
export const TrackEventsSchema = Type.Object(
  { events: Type.Array(TrackEventSchema, { minItems: 1, maxItems: 1000 }) },
  { additionalProperties: false },
);
export type TrackEvents = Static<typeof TrackEventsSchema>;

/** The Idempotency-Key header both ingestion routes take. */
export const IdempotencyKey = Type.String({
  pattern: '^[A-Za-z0-9_-]{8,64}$',
  description: 'Sending a request again with the same key (after a timeout or a 503) counts its events once',
});

/** What both ingestion routes answer with 202. */
export const AcceptedSchema = Type.Object({ accepted: Type.Integer(), batchId: Type.String() });
