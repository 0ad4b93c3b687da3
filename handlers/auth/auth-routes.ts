import { Type } from 'typebox';
import type { App } from '../../shared/http/server.ts';
import { requireRole, type TokenVerifier, type UserRole } from '../../shared/http/authenticate.ts';
import { RoleSchema } from '../../shared/http/authenticate.ts';
import { Timestamp, Uuid } from '../../shared/http/schemas.ts';
import type { AuthService, PublicApiKey, PublicUser } from './auth-service.ts';
import type { SigningKeys } from './signing-keys.ts';
import { register } from './routes/register.ts';
import { login } from './routes/login.ts';
import { validate } from './routes/validate.ts';
import { jwks } from './routes/jwks.ts';
import { listUsers } from './routes/list-users.ts';
import { updateUser } from './routes/update-user.ts';
import { createApiKey } from './routes/create-api-key.ts';
import { listApiKeys } from './routes/list-api-keys.ts';
import { revokeApiKey } from './routes/revoke-api-key.ts';
import { verifyApiKey } from './routes/verify-api-key.ts';

export interface AuthRouteDeps {
  service: AuthService;
  keys: SigningKeys;
  guard: (minimum: UserRole) => ReturnType<typeof requireRole>;
}

export const UserSchema = Type.Object(
  { id: Uuid, email: Type.String(), name: Type.Union([Type.String(), Type.Null()]), role: RoleSchema, disabled: Type.Boolean(), createdAt: Timestamp, updatedAt: Timestamp },
  { $id: 'User' },
);

export const ApiKeySchema = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    environment: Type.String(),
    prefix: Type.String({ description: 'The first characters of the key, to tell keys apart' }),
    createdBy: Uuid,
    createdAt: Timestamp,
    revokedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { $id: 'ApiKey' },
);

export const userView = (user: PublicUser) => ({ ...user, createdAt: user.createdAt.toISOString(), updatedAt: user.updatedAt.toISOString() });
export const apiKeyView = (key: PublicApiKey) => ({ ...key, createdAt: key.createdAt.toISOString(), revokedAt: key.revokedAt?.toISOString() ?? null });

export function authRoutes(service: AuthService, keys: SigningKeys, verifier: TokenVerifier) {
  const deps: AuthRouteDeps = { service, keys, guard: (minimum) => requireRole(verifier, minimum) };
  return (app: App) => {
    for (const route of [register, login, validate, jwks, listUsers, updateUser, createApiKey, listApiKeys, revokeApiKey, verifyApiKey]) route(app, deps);
  };
}
