import { Type } from 'typebox';
import { FlagKey } from '../../shared/contracts/flag-model.ts';
import { ProjectKey } from '../../shared/contracts/project-model.ts';
import { Condition, RuleSpec, SegmentKey } from '../../shared/contracts/targeting-model.ts';
import { ReadOnly, Strict, Timestamp, Uuid } from '../../shared/http/schemas.ts';
import type { StoredSegment } from './targeting-store.ts';

export const Environment = Type.String({ minLength: 1, maxLength: 64 });

export const RuleFields = RuleSpec.properties;

/** PUT /targeting/rules/{id}: the rule's fields, and whatever else GET answered sent back as it was. */
export const RuleReplacementFields = {
  ...RuleFields,
  id: ReadOnly(Uuid, 'If sent, must be the id in the path'),
  flagKey: ReadOnly(FlagKey, "If sent, must be the rule's flag (a rule cannot move to another flag)"),
  environment: ReadOnly(Environment, "If sent, must be the rule's environment (a rule cannot move to another environment)"),
  priority: ReadOnly(Type.Integer(), 'Ignored: the order changes through PUT /targeting/rules/order'),
  createdAt: ReadOnly(Timestamp),
  updatedAt: ReadOnly(Timestamp),
};

/** How many targeting keys a segment's `included` (and its `excluded`) list may hold. */
export const maxSegmentKeys = 100_000;

/**
 * The body limit of the routes that write a segment: two full lists of 100,000 keys of up to ~80 characters
 * (a UUID is 36). Other routes keep the service's BODY_LIMIT_BYTES.
 */
export const segmentBodyLimit = 16 * 2 ** 20;

export const SegmentFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  conditions: Type.Optional(Type.Array(Condition, { maxItems: 50, description: 'All must hold' })),
  included: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      maxItems: maxSegmentKeys,
      description: 'Targeting keys always in (at most 100,000; the body of a segment write may be up to 16 MiB)',
    }),
  ),
  excluded: Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
      maxItems: maxSegmentKeys,
      description: 'Targeting keys never in (at most 100,000)',
    }),
  ),
};

const KeyList = (what: string) =>
  Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: maxSegmentKeys, description: what });

const KeyListChange = Strict({
  add: Type.Optional(KeyList('Keys to add (one already there stays once)')),
  remove: Type.Optional(KeyList('Keys to remove (one not there is no error)')),
});

/**
 * PATCH /targeting/segments/{key}/keys: keys added to and removed from the lists, without sending the lists whole
 * (a list of 100,000 keys is ~4 MB each way). Removals apply after additions.
 */
export const SegmentKeysChange = Strict({ included: Type.Optional(KeyListChange), excluded: Type.Optional(KeyListChange) });

/** What a PATCH of a segment's keys answers: the segment's version and its lists' sizes, not the lists. */
export const SegmentKeysResult = Type.Object({
  key: SegmentKey,
  project: ProjectKey,
  version: Type.Integer(),
  includedCount: Type.Integer(),
  excludedCount: Type.Integer(),
  updatedAt: Timestamp,
});

/** PUT /targeting/segments/{key}: the segment's fields, and whatever else GET answered sent back as it was. */
export const SegmentReplacementFields = {
  ...SegmentFields,
  key: ReadOnly(SegmentKey, 'If sent, must be the key in the path'),
  project: ReadOnly(ProjectKey, "If sent, must be the segment's project (a segment cannot move to another project)"),
  version: ReadOnly(Type.Integer(), 'Ignored: send the ETag as If-Match to guard against lost updates'),
  createdAt: ReadOnly(Timestamp),
  updatedAt: ReadOnly(Timestamp),
};

export const segmentView = ({ createdAt, updatedAt, ...segment }: StoredSegment) => ({
  ...segment,
  createdAt: createdAt.toISOString(),
  updatedAt: updatedAt.toISOString(),
});

/** An evaluation context: `targetingKey` and any attributes. */
export const ContextSchema = Type.Object(
  { targetingKey: Type.Optional(Type.String({ maxLength: 256 })) },
  { additionalProperties: true, maxProperties: 200, description: 'targetingKey plus any attributes' },
);

export const IfMatchHeaders = Type.Object({ 'if-match': Type.Optional(Type.String()) });
