import type { LoggedDelivery, WebhookStore } from './webhook-store.ts';
import type { Webhook, WebhookDelivery } from './webhook.ts';

/** The same contract as the PostgreSQL store, in memory, for unit tests. Nothing sends from it: no worker runs on it. */
export function createMemoryWebhookStore(): WebhookStore {
  const webhooks = new Map<string, Webhook>();
  const deliveries: WebhookDelivery[] = [];
  const clone = <T>(value: T): T => structuredClone(value);

  return {
    async list(limit, project) {
      return [...webhooks.values()]
        .filter((w) => project === undefined || w.project === project)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
        .slice(0, limit)
        .map(clone);
    },
    async get(id) {
      const webhook = webhooks.get(id);
      return webhook && clone(webhook);
    },
    async insert(webhook) {
      webhooks.set(webhook.id, clone(webhook));
    },
    async update(webhook, expectedVersion) {
      const current = webhooks.get(webhook.id);
      if (!current) return 'not-found';
      if (current.version !== expectedVersion) return 'stale';
      webhooks.set(webhook.id, clone(webhook));
      return 'ok';
    },
    async delete(id) {
      const existed = webhooks.delete(id);
      for (let i = deliveries.length - 1; i >= 0; i--) if (deliveries[i]!.webhookId === id) deliveries.splice(i, 1);
      return existed;
    },
    async enqueue(delivery) {
      const id = deliveries.length + 1;
      deliveries.push(clone({ ...delivery, id, status: 'pending', attempts: 0, lastStatusCode: null, lastError: null, closedAt: null }));
      return id;
    },
    async deliveries(webhookId, { limit, before }) {
      return deliveries
        .filter((d) => d.webhookId === webhookId && (before === undefined || d.id < before))
        .sort((a, b) => b.id - a.id)
        .slice(0, limit)
        .map((d): LoggedDelivery => ({ ...clone(d), attemptLog: [] }));
    },
    async redeliver(webhookId, deliveryId, at, expiresAt) {
      const delivery = deliveries.find((d) => d.id === deliveryId && d.webhookId === webhookId);
      if (!delivery) return 'not-found';
      if (delivery.status !== 'failed') return 'not-failed';
      Object.assign(delivery, { status: 'pending', nextAttemptAt: at, expiresAt, closedAt: null });
      return 'ok';
    },
  };
}
