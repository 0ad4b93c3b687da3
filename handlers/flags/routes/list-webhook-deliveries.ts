import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Limit, Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { WebhookDeliverySchema } from '../../../shared/contracts/webhooks-api.ts';
import { deliveryView } from '../webhooks/webhook-service.ts';
import type { WebhookRouteDeps } from './webhook-route-deps.ts';

export function listWebhookDeliveries(app: App, { webhooks, guard, inProject }: WebhookRouteDeps): void {
  app.get(
    '/webhooks/:id/deliveries',
    {
      onRequest: guard('admin', inProject.webhook),
      schema: {
        tags: ['webhooks'],
        summary: 'The delivery log, newest first: each event sent, its status, and its attempts with the receiver’s answers',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        querystring: Strict({ limit: Limit, cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })) }),
        response: {
          200: Type.Object({ items: Type.Array(WebhookDeliverySchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          ...problemResponses,
        },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const items = await webhooks.deliveries(request.params.id, { limit, before: cursor === undefined ? undefined : Number(cursor) });
      return { items: items.map(deliveryView), nextCursor: items.length === limit ? String(items.at(-1)!.id) : null };
    },
  );
}
