import { Type } from 'typebox';
import { RoleSchema } from '../http/authenticate.ts';
import { Timestamp, Uuid } from '../http/schemas.ts';
import { sdkKeyKinds } from './access-model.ts';

/**
 * What the auth service answers: the route schemas it validates and serializes with, and the OpenAPI document's.
 * The console takes its types from these (type-only), so the two cannot drift apart.
 */

/** POST /auth/login. */
export const LoginAnswerSchema = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds' }),
});

/** GET /auth/validate: who the bearer token belongs to. */
export const MeSchema = Type.Object({ sub: Uuid, email: Type.String(), role: RoleSchema, name: Type.Union([Type.String(), Type.Null()]) });

export const UserSchema = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    role: RoleSchema,
    disabled: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'User' },
);

/** An SDK key as listed: never its secret. */
export const ApiKeySchema = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    project: Type.String({ description: 'The project whose flags it evaluates' }),
    environment: Type.String(),
    kind: Type.Enum([...sdkKeyKinds], {
      description: '`server`: a secret of a backend service; `client`: public (a web page, an app), evaluates only client-visible flags',
    }),
    prefix: Type.String({ description: 'The first characters of the key, to tell keys apart' }),
    createdBy: Uuid,
    createdAt: Timestamp,
    revokedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { $id: 'ApiKey' },
);

/** POST /auth/api-keys: the key with its secret, in this answer only. */
export const CreatedApiKeySchema = Type.Intersect([
  ApiKeySchema,
  Type.Object({ key: Type.String({ description: 'Shown once; stored only as a hash' }) }),
]);

/** GET /auth/settings: what the sign-in page needs to know before anyone signs in. */
export const AuthSettingsSchema = Type.Object({
  selfRegistration: Type.Boolean({ description: 'Whether POST /auth/register accepts anyone (SELF_REGISTRATION)' }),
  selfRegistrationDomains: Type.Array(Type.String(), {
    description: 'With self-registration on: the only e-mail domains that may register; empty: any',
  }),
});

/** An invitation as listed: never its token (stored only as a hash). */
export const InvitationSchema = Type.Object(
  {
    id: Uuid,
    email: Type.String(),
    role: RoleSchema,
    invitedBy: Uuid,
    createdAt: Timestamp,
    expiresAt: Timestamp,
  },
  { $id: 'Invitation' },
);

/** POST /auth/invitations: the invitation with its token and link, in this answer only. */
export const CreatedInvitationSchema = Type.Intersect([
  InvitationSchema,
  Type.Object({
    token: Type.String({ description: 'Shown once; stored only as a hash. Works once, until expiresAt' }),
    acceptUrl: Type.String({
      description: 'The link to send the invitee: absolute when CONSOLE_URL is set, otherwise a path on the console’s origin',
    }),
  }),
]);

/** GET /auth/projects/{project}/members: a person's role in a project, granted by membership. */
export const ProjectMemberSchema = Type.Object(
  {
    userId: Uuid,
    email: Type.String(),
    name: Type.Union([Type.String(), Type.Null()]),
    role: RoleSchema,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'ProjectMember' },
);
