import { Type } from 'typebox';
import { RoleSchema } from '../../shared/http/authenticate.ts';
import { Timestamp, Uuid } from '../../shared/http/schemas.ts';
import type { PublicApiKey, PublicUser } from './auth-service.ts';
import { sdkKeyKinds } from '../../shared/contracts/access-model.ts';

export const UserSchema = Type.Object(
  { id: Uuid, email: Type.String(), name: Type.Union([Type.String(), Type.Null()]), role: RoleSchema, disabled: Type.Boolean(), createdAt: Timestamp, updatedAt: Timestamp },
  { $id: 'User' },
);

export const ApiKeySchema = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    environment: Type.String(),
    kind: Type.Enum([...sdkKeyKinds], { description: '`server`: a secret of a backend service' }),
    prefix: Type.String({ description: 'The first characters of the key, to tell keys apart' }),
    createdBy: Uuid,
    createdAt: Timestamp,
    revokedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { $id: 'ApiKey' },
);

export const userView = (user: PublicUser) => ({ ...user, createdAt: user.createdAt.toISOString(), updatedAt: user.updatedAt.toISOString() });
export const apiKeyView = (key: PublicApiKey) => ({ ...key, createdAt: key.createdAt.toISOString(), revokedAt: key.revokedAt?.toISOString() ?? null });
