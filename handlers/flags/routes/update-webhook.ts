import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { WebhookFields, WebhookSchema } from '../../../shared/contracts/webhooks-api.ts';
import { webhookView } from '../webhooks/webhook-service.ts';
import { IfMatchHeaders } from '../flag-schemas.ts';
import type { WebhookRouteDeps } from './webhook-route-deps.ts';

export function updateWebhook(app: App, { webhooks, guard, inProject }: WebhookRouteDeps): void {
  app.patch(
    '/webhooks/:id',
    {
      onRequest: guard('admin', inProject.webhook),
      schema: {
        tags: ['webhooks'],
        summary: 'Change a webhook’s name, URL, events, format, or pause it (`enabled: false`: its deliveries wait)',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        headers: IfMatchHeaders,
        body: Strict(
          {
            name: Type.Optional(WebhookFields.name),
            url: Type.Optional(WebhookFields.url),
            events: Type.Optional(WebhookFields.events),
            format: Type.Optional(WebhookFields.format),
            enabled: Type.Optional(WebhookFields.enabled),
          },
          { minProperties: 1, description: 'At least one field' },
        ),
        response: { 200: WebhookSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const webhook = await webhooks.update(request.params.id, request.body, request.headers['if-match']);
      return reply.header('etag', `"${webhook.version}"`).send(webhookView(webhook));
    },
  );
}
