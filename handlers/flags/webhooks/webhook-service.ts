import { randomUUID } from 'node:crypto';
import type { Static } from 'typebox';
import { AppError } from '../../../shared/http/problem.ts';
import { assertIfMatch } from '../../../shared/http/if-match.ts';
import type { WebhookDeliverySchema, WebhookFormat, WebhookSchema } from '../../../shared/contracts/webhooks-api.ts';
import { newWebhookSecret } from './signature.ts';
import type { TargetGuard } from './target-guard.ts';
import type { LoggedDelivery, WebhookStore } from './webhook-store.ts';
import { payloadOf, testEventOf, type Webhook } from './webhook.ts';

type Actor = { userId: string; email: string };

export interface WebhookInput {
  name: string;
  url: string;
  events: string[];
  format?: WebhookFormat | undefined;
  enabled?: boolean | undefined;
}

/** Webhooks a deployment holds at most: each is one more delivery per event to fan out and send. */
export const maxWebhooks = 100;

export const webhookView = ({ secret: _, ...w }: Webhook): Static<typeof WebhookSchema> => ({
  ...w,
  events: w.events as Static<typeof WebhookSchema>['events'],
  createdAt: w.createdAt.toISOString(),
  updatedAt: w.updatedAt.toISOString(),
});

export const deliveryView = (d: LoggedDelivery): Static<typeof WebhookDeliverySchema> => ({
  id: String(d.id),
  eventId: d.eventId,
  eventType: d.eventType,
  flagKey: d.flagKey || null,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt.toISOString() : null,
  lastStatusCode: d.lastStatusCode,
  lastError: d.lastError,
  createdAt: d.createdAt.toISOString(),
  closedAt: d.closedAt?.toISOString() ?? null,
  payload: d.payload,
  attemptLog: d.attemptLog.map((a) => ({ ...a, at: a.at.toISOString() })),
});

/** Subscriptions: checked (the target above all) before they are kept; their secret is shown once. */
export function createWebhookService(deps: { store: WebhookStore; guard: TargetGuard; expiresInMs: number; now?: () => Date }) {
  const { store, guard } = deps;
  const now = deps.now ?? (() => new Date());

  /** The URL parsed and its target allowed, or a 422 that says why (a resolver that cannot answer now: 503). */
  async function checkTarget(url: string): Promise<string> {
    const parsed = new URL(url);
    let refused;
    try {
      refused = await guard.check(parsed);
    } catch (error) {
      throw new AppError('SERVICE_UNAVAILABLE', `Could not resolve ${parsed.hostname} now (${(error as Error).message}); try again`, {
        headers: { 'retry-after': '5' },
      });
    }
    if (refused) throw new AppError('UNPROCESSABLE', refused.message, { errors: [{ path: '/url', message: refused.message }] });
    return parsed.toString();
  }

  async function found(id: string): Promise<Webhook> {
    const webhook = await store.get(id);
    if (!webhook) throw new AppError('NOT_FOUND', `No webhook with id ${id}`);
    return webhook;
  }

  return {
    list: (project: string) => store.list(maxWebhooks, project),
    get: found,

    async create(input: WebhookInput, by: Actor, project: string): Promise<Webhook> {
      if ((await store.list(maxWebhooks, project)).length >= maxWebhooks)
        throw new AppError('CONFLICT', `A project holds at most ${maxWebhooks} webhooks; delete one first`);
      const at = now();
      const webhook: Webhook = {
        id: randomUUID(),
        project,
        name: input.name,
        url: await checkTarget(input.url),
        events: input.events,
        format: input.format ?? 'json',
        enabled: input.enabled ?? true,
        secret: newWebhookSecret(),
        createdBy: by,
        createdAt: at,
        updatedAt: at,
        version: 1,
      };
      await store.insert(webhook);
      return webhook;
    },

    async update(id: string, change: Partial<WebhookInput>, ifMatch: string | undefined): Promise<Webhook> {
      const current = await found(id);
      assertIfMatch(current.version, ifMatch, 'webhook');
      const next: Webhook = {
        ...current,
        ...(change.name !== undefined ? { name: change.name } : {}),
        ...(change.url !== undefined ? { url: await checkTarget(change.url) } : {}),
        ...(change.events !== undefined ? { events: change.events } : {}),
        ...(change.format !== undefined ? { format: change.format } : {}),
        ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
        updatedAt: now(),
        version: current.version + 1,
      };
      const outcome = await store.update(next, current.version);
      if (outcome === 'not-found') throw new AppError('NOT_FOUND', `No webhook with id ${id}`);
      if (outcome === 'stale')
        throw new AppError('PRECONDITION_FAILED', 'The webhook changed meanwhile; reload it and apply your change again');
      return next;
    },

    async delete(id: string): Promise<void> {
      if (!(await store.delete(id))) throw new AppError('NOT_FOUND', `No webhook with id ${id}`);
    },

    /** A new secret, in effect for the next delivery sent; the old one stops signing at once. */
    async rotateSecret(id: string): Promise<Webhook> {
      const current = await found(id);
      const next = { ...current, secret: newWebhookSecret(), updatedAt: now(), version: current.version + 1 };
      if ((await store.update(next, current.version)) !== 'ok')
        throw new AppError('PRECONDITION_FAILED', 'The webhook changed meanwhile; try again');
      return next;
    },

    /** Queues a test event for the worker to send like any other (its answer shows in the delivery log). */
    async test(id: string, by: Actor): Promise<number> {
      const webhook = await found(id);
      const at = now();
      const event = testEventOf(webhook, by, at, `evt_test_${randomUUID()}`);
      return store.enqueue({
        webhookId: id,
        eventId: event.id,
        eventType: 'webhook.test',
        flagKey: '',
        payload: payloadOf(webhook.format, event),
        nextAttemptAt: at,
        expiresAt: new Date(at.getTime() + deps.expiresInMs),
        createdAt: at,
      });
    },

    async deliveries(id: string, page: { limit: number; before?: number | undefined }): Promise<LoggedDelivery[]> {
      await found(id);
      return store.deliveries(id, page);
    },

    async redeliver(id: string, deliveryId: number): Promise<void> {
      const at = now();
      const outcome = await store.redeliver(id, deliveryId, at, new Date(at.getTime() + deps.expiresInMs));
      if (outcome === 'not-found') throw new AppError('NOT_FOUND', `No delivery ${deliveryId} of webhook ${id}`);
      if (outcome === 'not-failed')
        throw new AppError('CONFLICT', 'Only a delivery that was given up can be sent again; this one is delivered or still being tried');
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
