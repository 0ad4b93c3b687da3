import type { App } from '../../../shared/http/server.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { WebhookSchema } from '../../../shared/contracts/webhooks-api.ts';
import { webhookView } from '../webhooks/webhook-service.ts';
import type { WebhookRouteDeps } from './webhook-route-deps.ts';

export function getWebhook(app: App, { webhooks, guard, inProject }: WebhookRouteDeps): void {
  app.get(
    '/webhooks/:id',
    {
      onRequest: guard('admin', inProject.webhook),
      schema: {
        tags: ['webhooks'],
        summary: 'A webhook (without its secret); the ETag is its version',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        response: { 200: WebhookSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const webhook = await webhooks.get(request.params.id);
      return reply.header('etag', `"${webhook.version}"`).send(webhookView(webhook));
    },
  );
}
