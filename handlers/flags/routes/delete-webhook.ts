import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { WebhookRouteDeps } from './webhook-route-deps.ts';

export function deleteWebhook(app: App, { webhooks, guard, inProject }: WebhookRouteDeps): void {
  app.delete(
    '/webhooks/:id',
    {
      onRequest: guard('admin', inProject.webhook),
      schema: {
        tags: ['webhooks'],
        summary: 'Delete a webhook, its pending deliveries and its log',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        response: { 204: Type.Null({ description: 'Deleted' }), ...problemResponses },
      },
    },
    async (request, reply) => {
      await webhooks.delete(request.params.id);
      return reply.code(204).send(null);
    },
  );
}
