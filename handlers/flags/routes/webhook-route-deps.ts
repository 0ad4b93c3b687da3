import type { ProjectOf, requireRole, UserRole } from '../../../shared/http/authenticate.ts';
import type { ProjectScopes } from './project-scopes.ts';
import type { WebhookService } from '../webhooks/webhook-service.ts';

export interface WebhookRouteDeps {
  webhooks: WebhookService;
  guard: (minimum: UserRole, projectOf?: ProjectOf) => ReturnType<typeof requireRole>;
  inProject: ProjectScopes;
}
