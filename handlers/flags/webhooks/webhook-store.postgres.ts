import type { Generated, Kysely, Selectable } from 'kysely';
import { jsonb } from '../../../shared/db/database.ts';
import type { WebhookEventType, WebhookFormat } from '../../../shared/contracts/webhooks-api.ts';
import type { FlagsDatabase } from '../flag-store.postgres.ts';
import type { LoggedDelivery, WebhookStore } from './webhook-store.ts';
import type { Webhook, WebhookDelivery, WebhookDeliveryStatus } from './webhook.ts';

interface WebhooksTable {
  id: string;
  project: string;
  name: string;
  url: string;
  events: string[];
  format: WebhookFormat;
  enabled: boolean;
  secret: string;
  created_by_id: string;
  created_by_email: string;
  created_at: Date;
  updated_at: Date;
  version: number;
}

interface WebhookDeliveriesTable {
  id: Generated<number>;
  webhook_id: string;
  event_id: string;
  event_type: WebhookEventType;
  flag_key: string;
  payload: unknown;
  status: WebhookDeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: Date;
  expires_at: Date;
  last_status_code: number | null;
  last_error: string | null;
  created_at: Date;
  closed_at: Date | null;
}

interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  at: Date;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** The flags schema with the webhooks' tables, and the audit column that marks entries handed to them. */
export interface WebhooksDatabase extends Omit<FlagsDatabase, 'flag_audit'> {
  flag_audit: FlagsDatabase['flag_audit'] & { webhook_at: Date | null };
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

const toWebhook = (r: Selectable<WebhooksTable>): Webhook => ({
  id: r.id,
  project: r.project,
  name: r.name,
  url: r.url,
  events: r.events,
  format: r.format,
  enabled: r.enabled,
  secret: r.secret,
  createdBy: { userId: r.created_by_id, email: r.created_by_email },
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  version: r.version,
});

const webhookRow = (w: Webhook) => ({
  id: w.id,
  project: w.project,
  name: w.name,
  url: w.url,
  events: w.events,
  format: w.format,
  enabled: w.enabled,
  secret: w.secret,
  created_by_id: w.createdBy.userId,
  created_by_email: w.createdBy.email,
  created_at: w.createdAt,
  updated_at: w.updatedAt,
  version: w.version,
});

export const toDelivery = (r: Selectable<WebhookDeliveriesTable>): WebhookDelivery => ({
  id: Number(r.id),
  webhookId: r.webhook_id,
  eventId: r.event_id,
  eventType: r.event_type,
  flagKey: r.flag_key,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  expiresAt: r.expires_at,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  createdAt: r.created_at,
  closedAt: r.closed_at,
});

/** Attempts the log shows per delivery. */
const attemptsShown = 10;

export function createPostgresWebhookStore(db: Kysely<WebhooksDatabase>): WebhookStore {
  return {
    async list(limit, project) {
      let query = db.selectFrom('webhooks').selectAll().orderBy('created_at').orderBy('id').limit(limit);
      if (project !== undefined) query = query.where('project', '=', project);
      return (await query.execute()).map(toWebhook);
    },
    async get(id) {
      const found = await db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
      return found && toWebhook(found);
    },
    async insert(webhook) {
      await db.insertInto('webhooks').values(webhookRow(webhook)).execute();
    },
    async update(webhook, expectedVersion) {
      const updated = await db
        .updateTable('webhooks')
        .set(webhookRow(webhook))
        .where('id', '=', webhook.id)
        .where('version', '=', expectedVersion)
        .executeTakeFirst();
      if (updated.numUpdatedRows > 0n) return 'ok';
      return (await db.selectFrom('webhooks').select('id').where('id', '=', webhook.id).executeTakeFirst()) ? 'stale' : 'not-found';
    },
    async delete(id) {
      const deleted = await db.deleteFrom('webhooks').where('id', '=', id).executeTakeFirst();
      return deleted.numDeletedRows > 0n;
    },
    async enqueue(d) {
      const { id } = await db
        .insertInto('webhook_deliveries')
        .values({
          webhook_id: d.webhookId,
          event_id: d.eventId,
          event_type: d.eventType,
          flag_key: d.flagKey,
          payload: jsonb(d.payload),
          status: 'pending',
          next_attempt_at: d.nextAttemptAt,
          expires_at: d.expiresAt,
          last_status_code: null,
          last_error: null,
          created_at: d.createdAt,
          closed_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return Number(id);
    },
    async deliveries(webhookId, { limit, before }) {
      let query = db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
      if (before !== undefined) query = query.where('id', '<', before);
      const rows = await query.orderBy('id', 'desc').limit(limit).execute();
      if (rows.length === 0) return [];
      const attempts = await db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where(
          'delivery_id',
          'in',
          rows.map((r) => r.id),
        )
        .orderBy('id', 'desc')
        .execute();
      return rows.map((r): LoggedDelivery => ({
        ...toDelivery(r),
        attemptLog: attempts
          .filter((a) => Number(a.delivery_id) === Number(r.id))
          .slice(0, attemptsShown)
          .map((a) => ({ at: a.at, statusCode: a.status_code, error: a.error, durationMs: a.duration_ms })),
      }));
    },
    async redeliver(webhookId, deliveryId, at, expiresAt) {
      const updated = await db
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', next_attempt_at: at, expires_at: expiresAt, closed_at: null })
        .where('id', '=', deliveryId)
        .where('webhook_id', '=', webhookId)
        .where('status', '=', 'failed')
        .executeTakeFirst();
      if (updated.numUpdatedRows > 0n) return 'ok';
      const found = await db
        .selectFrom('webhook_deliveries')
        .select('id')
        .where('id', '=', deliveryId)
        .where('webhook_id', '=', webhookId)
        .executeTakeFirst();
      return found ? 'not-failed' : 'not-found';
    },
  };
}
