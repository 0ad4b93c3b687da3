import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { Strict, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import { ProjectQuery } from '../../../shared/contracts/project-model.ts';
import { WebhookSchema } from '../../../shared/contracts/webhooks-api.ts';
import { webhookView } from '../webhooks/webhook-service.ts';
import type { WebhookRouteDeps } from './webhook-route-deps.ts';

export function listWebhooks(app: App, { webhooks, guard, inProject }: WebhookRouteDeps): void {
  app.get(
    '/webhooks',
    {
      onRequest: guard('admin', inProject.query),
      schema: {
        tags: ['webhooks'],
        summary: 'The webhooks, oldest first (admin: a target URL can be a credential, as Slack’s are)',
        security: bearerSecurity,
        querystring: Strict({ project: ProjectQuery }),
        response: { 200: Type.Object({ items: Type.Array(WebhookSchema) }), ...problemResponses },
      },
    },
    async (request) => ({ items: (await webhooks.list(request.query.project)).map(webhookView) }),
  );
}
