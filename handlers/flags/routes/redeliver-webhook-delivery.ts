import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { WebhookRouteDeps } from './webhook-route-deps.ts';

export function redeliverWebhookDelivery(app: App, { webhooks, guard, inProject }: WebhookRouteDeps): void {
  app.post(
    '/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      onRequest: guard('admin', inProject.webhook),
      schema: {
        tags: ['webhooks'],
        summary: 'Send a given-up delivery again (first of its flag’s waiting deliveries, as it was)',
        security: bearerSecurity,
        params: Strict({ id: Uuid, deliveryId: Type.String({ pattern: '^[0-9]{1,15}$' }) }),
        response: { 202: Type.Null({ description: 'Queued again' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await webhooks.redeliver(request.params.id, Number(request.params.deliveryId));
      return reply.code(202).send(null);
    },
  );
}
