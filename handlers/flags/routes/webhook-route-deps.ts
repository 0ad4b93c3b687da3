import type { requireRole, UserRole } from '../../../shared/http/authenticate.ts';
import type { WebhookService } from '../webhooks/webhook-service.ts';

export interface WebhookRouteDeps {
  webhooks: WebhookService;
  guard: (minimum: UserRole) => ReturnType<typeof requireRole>;
}
