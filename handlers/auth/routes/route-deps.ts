import type { requireRole, UserRole } from '../../../shared/http/authenticate.ts';
import type { AuthService } from '../auth-service.ts';
import type { SigningKeys } from '../signing-keys.ts';

export interface AuthRouteDeps {
  service: AuthService;
  keys: SigningKeys;
  guard: (minimum: UserRole) => ReturnType<typeof requireRole>;
}
