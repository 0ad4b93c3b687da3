import { requireRole, type TokenVerifier } from '../../shared/http/authenticate.ts';
import type { App } from '../../shared/http/server.ts';
import type { WebhookService } from './webhooks/webhook-service.ts';
import type { WebhookRouteDeps } from './routes/webhook-route-deps.ts';
import type { ProjectScopes } from './routes/project-scopes.ts';
import { listWebhooks } from './routes/list-webhooks.ts';
import { createWebhook } from './routes/create-webhook.ts';
import { getWebhook } from './routes/get-webhook.ts';
import { updateWebhook } from './routes/update-webhook.ts';
import { deleteWebhook } from './routes/delete-webhook.ts';
import { rotateWebhookSecret } from './routes/rotate-webhook-secret.ts';
import { testWebhook } from './routes/test-webhook.ts';
import { listWebhookDeliveries } from './routes/list-webhook-deliveries.ts';
import { redeliverWebhookDelivery } from './routes/redeliver-webhook-delivery.ts';

/** The flags service's webhook routes (under /webhooks: a flag may be called "webhooks"). */
export function webhookRoutes(webhooks: WebhookService, inProject: ProjectScopes, verifier: TokenVerifier) {
  const deps: WebhookRouteDeps = { webhooks, inProject, guard: (minimum, projectOf) => requireRole(verifier, minimum, projectOf) };
  return (app: App) => {
    for (const route of [
      listWebhooks,
      createWebhook,
      getWebhook,
      updateWebhook,
      deleteWebhook,
      rotateWebhookSecret,
      testWebhook,
      listWebhookDeliveries,
      redeliverWebhookDelivery,
    ])
      route(app, deps);
  };
}
