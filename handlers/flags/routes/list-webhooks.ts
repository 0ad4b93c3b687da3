import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { WebhookSchema } from '../../../shared/contracts/webhooks-api.ts';
import { webhookView } from '../webhooks/webhook-service.ts';
import type { WebhookRouteDeps } from './webhook-route-deps.ts';

export function listWebhooks(app: App, { webhooks, guard }: WebhookRouteDeps): void {
  app.get(
    '/webhooks',
    {
      onRequest: guard('admin'),
      schema: {
        tags: ['webhooks'],
        summary: 'The webhooks, oldest first (admin: a target URL can be a credential, as Slack’s are)',
        security: bearerSecurity,
        response: { 200: Type.Object({ items: Type.Array(WebhookSchema) }), ...problemResponses },
      },
    },
    async () => ({ items: (await webhooks.list()).map(webhookView) }),
  );
}
