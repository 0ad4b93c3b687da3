import { Type } from 'typebox';
import type { FastifyReply } from 'fastify';
import { EnvironmentPatch, EnvironmentState, FlagKey, Tag, Variant } from '../../shared/contracts/flag-model.ts';
import { FlagTypeSchema } from '../../shared/contracts/flags-api.ts';
import { AuditActorSchema } from '../../shared/contracts/audit-api.ts';
import { ReadOnly, Timestamp } from '../../shared/http/schemas.ts';
import { ProjectKey } from '../../shared/contracts/project-model.ts';
import { toDocument, type Flag } from './flag-store.ts';

export const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'The ETag (version) this change was made against' })),
});

/** Answers with the flag and its version as a strong ETag, for the next If-Match. */
export function sendFlag(reply: FastifyReply, flag: Flag, status = 200) {
  return reply.code(status).header('etag', `"${flag.version}"`).send(toDocument(flag));
}

/** What a flag is made of, apart from its key and its per-environment state. */
export const FlagDefinitionFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  tags: Type.Optional(Type.Array(Tag, { maxItems: 20 })),
  type: FlagTypeSchema,
  variants: Type.Optional(Type.Array(Variant, { minItems: 1, maxItems: 50, description: 'Boolean flags default to on=true, off=false' })),
  clientVisible: Type.Optional(
    Type.Boolean({
      description:
        'Whether client-side SDKs (public `client` keys: browsers, apps) may evaluate it. Default false on creation; left as it is when a PUT omits it',
    }),
  ),
};

export const NewFlagBody = {
  key: FlagKey,
  ...FlagDefinitionFields,
  environments: Type.Optional(Type.Record(Type.String(), EnvironmentPatch, { description: 'Initial state per environment' })),
};

/**
 * PUT /flags/{key}: the definition, and whatever else GET answered sent back as it was, so a client can edit the
 * document it read and put it back.
 */
export const FlagReplacementFields = {
  ...FlagDefinitionFields,
  key: ReadOnly(FlagKey, 'If sent, must be the key in the path'),
  salt: ReadOnly(Type.String(), "If sent, must be the flag's salt (fixed at creation)"),
  project: ReadOnly(ProjectKey, "If sent, must be the flag's project (fixed at creation)"),
  version: ReadOnly(Type.Integer(), 'Ignored: send the ETag as If-Match to guard against lost updates'),
  environments: ReadOnly(
    Type.Record(Type.String(), EnvironmentState),
    'Ignored: an environment changes through PATCH /flags/{key}/environments/{environment}',
  ),
  createdAt: ReadOnly(Timestamp),
  updatedAt: ReadOnly(Timestamp),
  archivedAt: ReadOnly(
    Type.Union([Timestamp, Type.Null()]),
    'Ignored: an archived flag cannot be changed (409); DELETE archives, POST /flags/{key}/restore restores',
  ),
  archivedBy: ReadOnly(Type.Union([AuditActorSchema, Type.Null()])),
};
