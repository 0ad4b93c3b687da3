import { Type } from 'typebox';
import type { App } from '../../../shared/http/server.ts';
import { principalOf } from '../../../shared/http/authenticate.ts';
import { Strict, Uuid, bearerSecurity, problemResponses } from '../../../shared/http/schemas.ts';
import type { WebhookRouteDeps } from './webhook-route-deps.ts';

export function testWebhook(app: App, { webhooks, guard, inProject }: WebhookRouteDeps): void {
  app.post(
    '/webhooks/:id/test',
    {
      onRequest: guard('admin', inProject.webhook),
      schema: {
        tags: ['webhooks'],
        summary: 'Queue a `webhook.test` event; the worker sends it like any other and its answer shows in the delivery log',
        security: bearerSecurity,
        params: Strict({ id: Uuid }),
        response: { 202: Type.Object({ deliveryId: Type.String() }), ...problemResponses },
      },
    },
    async (request, reply) => reply.code(202).send({ deliveryId: String(await webhooks.test(request.params.id, principalOf(request))) }),
  );
}
