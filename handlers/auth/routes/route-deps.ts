import type { ProjectOf, requireRole, UserRole } from '../../../shared/http/authenticate.ts';
import type { AuthService } from '../auth-service.ts';
import type { SigningKeys } from '../signing-keys.ts';

export interface AuthRouteDeps {
  service: AuthService;
  keys: SigningKeys;
  /** Without `projectOf` the account's role counts (the organisation's routes); with it, the role in that project. */
  guard: (minimum: UserRole, projectOf?: ProjectOf) => ReturnType<typeof requireRole>;
}
