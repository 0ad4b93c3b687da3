import type { App } from '../../../shared/http/server.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { WebhookWithSecretSchema } from '../../../shared/contracts/webhooks-api.ts';
import { webhookView } from '../webhooks/webhook-service.ts';
import type { WebhookRouteDeps } from './webhook-route-deps.ts';

export function rotateWebhookSecret(app: App, { webhooks, guard, inProject }: WebhookRouteDeps): void {
  app.post(
    '/webhooks/:id/rotate-secret',
    {
      onRequest: guard('admin', inProject.webhook),
      schema: {
        tags: ['webhooks'],
        summary: 'Replace the signing secret (answered once); deliveries sent from now on are signed with the new one',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        response: { 200: WebhookWithSecretSchema, ...problemResponses },
      },
    },
    async (request) => {
      const webhook = await webhooks.rotateSecret(request.params.id);
      return { ...webhookView(webhook), secret: webhook.secret };
    },
  );
}
