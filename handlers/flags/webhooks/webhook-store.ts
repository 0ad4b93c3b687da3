import type { Webhook, WebhookAttempt, WebhookDelivery } from './webhook.ts';

/** A delivery with its latest attempts, as the log shows it. */
export type LoggedDelivery = WebhookDelivery & { attemptLog: WebhookAttempt[] };

export type NewDelivery = Omit<WebhookDelivery, 'id' | 'attempts' | 'lastStatusCode' | 'lastError' | 'closedAt' | 'status'>;

/** The subscriptions and their delivery log: PostgreSQL in production, memory in unit tests, built by one factory. */
export interface WebhookStore {
  /** Oldest first; a project's, or every project's when none is named. */
  list(limit: number, project?: string): Promise<Webhook[]>;
  get(id: string): Promise<Webhook | undefined>;
  insert(webhook: Webhook): Promise<void>;
  /** Replaces the webhook if it is still at `expectedVersion`. */
  update(webhook: Webhook, expectedVersion: number): Promise<'ok' | 'stale' | 'not-found'>;
  /** Removes it and its log; false when there was none. */
  delete(id: string): Promise<boolean>;
  /** Queues one delivery (the test button's); answers its id. */
  enqueue(delivery: NewDelivery): Promise<number>;
  /** Newest first; `before`: a delivery id, for the next page. */
  deliveries(webhookId: string, page: { limit: number; before?: number | undefined }): Promise<LoggedDelivery[]>;
  /** Sends a failed delivery again from `at`, until `expiresAt`: 'ok', or why not. */
  redeliver(webhookId: string, deliveryId: number, at: Date, expiresAt: Date): Promise<'ok' | 'not-found' | 'not-failed'>;
}
