import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { WebhookFields, WebhookWithSecretSchema } from '../../../shared/contracts/webhooks-api.ts';
import { webhookView } from '../webhooks/webhook-service.ts';
import type { WebhookRouteDeps } from './webhook-route-deps.ts';
import { ProjectQuery } from '../../../shared/contracts/project-model.ts';

export function createWebhook(app: App, { webhooks, guard, inProject }: WebhookRouteDeps): void {
  app.post(
    '/webhooks',
    {
      onRequest: guard('admin', inProject.query),
      schema: {
        tags: ['webhooks'],
        summary: 'Subscribe a URL to events; answers the signing secret, once',
        description:
          'The URL is refused (422) when its host resolves to a loopback, private, link-local or reserved address that WEBHOOK_ALLOWED_NETWORKS does not open, or is outside WEBHOOK_ALLOWED_HOSTS when that is set.',
        security: bearerSecurity,
        querystring: Strict({ project: ProjectQuery }),
        body: Strict({
          name: WebhookFields.name,
          url: WebhookFields.url,
          events: WebhookFields.events,
          format: Type.Optional(WebhookFields.format),
          enabled: Type.Optional(WebhookFields.enabled),
        }),
        response: { 201: WebhookWithSecretSchema, ...problemResponses },
      },
    },
    async (request, reply) => {
      const webhook = await webhooks.create(request.body, principalOf(request), request.query.project);
      return reply
        .code(201)
        .header('location', `/webhooks/${webhook.id}`)
        .send({ ...webhookView(webhook), secret: webhook.secret });
    },
  );
}
