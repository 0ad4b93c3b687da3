import { ProjectKey } from './project-model.ts';
import { Type, type Static } from 'typebox';
import { Timestamp, Uuid } from '../http/schemas.ts';
import { AuditActorSchema } from './audit-api.ts';
import { releaseEventTypes } from './flags-api.ts';

/**
 * Webhooks of the flags service: what a subscription looks like, what its deliveries carry, and the log of them.
 * The console takes its types from these (type-only).
 */

/** A flag's audit actions, as webhook events: `flag.<action>`. */
export const flagEventTypes = [
  'flag.created',
  'flag.updated',
  'flag.environment-updated',
  'flag.deleted',
  'flag.archived',
  'flag.restored',
  'flag.purged',
] as const;

/** Every event a webhook can receive: flag changes, the release automation's events, and the test button's. */
export const webhookEventTypes = [...flagEventTypes, ...releaseEventTypes, 'webhook.test'] as const;
export type WebhookEventType = (typeof webhookEventTypes)[number];

/** What a subscription names: an event type, every event of a group (`flag.*`, `schedule.*`, `plan.*`, `change-request.*`), or `*`. */
export const webhookEventGroups = ['*', 'flag.*', 'schedule.*', 'plan.*', 'change-request.*'] as const;
export const WebhookEventFilter = Type.Enum([...webhookEventGroups, ...webhookEventTypes.filter((t) => t !== 'webhook.test')]);

export const webhookFormats = ['json', 'slack'] as const;
export type WebhookFormat = (typeof webhookFormats)[number];

const WebhookUrl = Type.String({
  format: 'uri',
  pattern: '^https?://',
  maxLength: 2048,
  description: 'http(s) URL the events are POSTed to; refused if its host resolves to an internal address that is not allow-listed',
});

export const WebhookSchema = Type.Object(
  {
    id: Uuid,
    project: ProjectKey,
    name: Type.String(),
    url: Type.String(),
    events: Type.Array(WebhookEventFilter),
    format: Type.Enum([...webhookFormats], {
      description: '`json`: the event as documented (signed); `slack`: `{ "text": … }`, what a Slack incoming webhook takes (also signed)',
    }),
    enabled: Type.Boolean(),
    createdBy: AuditActorSchema,
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: Type.Integer(),
  },
  { $id: 'Webhook' },
);

export const WebhookWithSecretSchema = Type.Intersect([
  WebhookSchema,
  Type.Object({
    secret: Type.String({
      description: 'The signing secret (`whsec_…`), shown once: each delivery’s `ToggleMaster-Signature` is an HMAC-SHA256 with it',
    }),
  }),
]);

export const WebhookFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  url: WebhookUrl,
  events: Type.Array(WebhookEventFilter, { minItems: 1, maxItems: 50, uniqueItems: true }),
  format: Type.Enum([...webhookFormats]),
  enabled: Type.Boolean(),
};

/** One try at sending a delivery: the receiver's status code, or why there was none. */
export const WebhookAttemptSchema = Type.Object({
  at: Timestamp,
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  durationMs: Type.Integer(),
});

export const WebhookDeliverySchema = Type.Object(
  {
    id: Type.String({ description: 'Sent as the ToggleMaster-Delivery header' }),
    eventId: Type.String({ description: 'Sent as ToggleMaster-Event-Id: the same on a retry, so a receiver can drop a repeat' }),
    eventType: Type.String(),
    flagKey: Type.Union([Type.String(), Type.Null()]),
    status: Type.Enum(['pending', 'delivered', 'failed'], {
      description: 'pending: not delivered yet (retried with back-off, after the earlier ones of its flag); failed: given up',
    }),
    attempts: Type.Integer(),
    nextAttemptAt: Type.Union([Timestamp, Type.Null()]),
    lastStatusCode: Type.Union([Type.Integer(), Type.Null()]),
    lastError: Type.Union([Type.String(), Type.Null()]),
    createdAt: Timestamp,
    closedAt: Type.Union([Timestamp, Type.Null()]),
    payload: Type.Unknown({ description: 'The body sent' }),
    attemptLog: Type.Array(WebhookAttemptSchema, { description: 'The latest attempts, newest first' }),
  },
  { $id: 'WebhookDelivery' },
);

/** The body of a `json` delivery. */
export const WebhookEventSchema = Type.Object(
  {
    id: Type.String(),
    type: Type.Enum([...webhookEventTypes]),
    occurredAt: Timestamp,
    flagKey: Type.Union([Type.String(), Type.Null()]),
    environment: Type.Union([Type.String(), Type.Null()]),
    actor: Type.Union([AuditActorSchema, Type.Null()], { description: 'Who did it; null when the release automation decided' }),
    summary: Type.String({ description: 'What happened, in one sentence' }),
    data: Type.Record(Type.String(), Type.Unknown(), { description: 'The event’s details: the audit change, or the release event' }),
  },
  { $id: 'WebhookEvent' },
);
export type WebhookEvent = Static<typeof WebhookEventSchema>;
