import { Type } from 'typebox';
import { FlagKey, Serve } from '../../shared/contracts/flag-model.ts';
import { Condition, SegmentKey } from '../../shared/contracts/targeting-model.ts';
import { Timestamp, Uuid } from '../../shared/http/schemas.ts';
import type { StoredSegment } from './targeting-store.ts';

export const Environment = Type.String({ minLength: 1, maxLength: 64 });

export const RuleFields = {
  name: Type.Optional(Type.String({ maxLength: 200 })),
  conditions: Type.Array(Condition, { maxItems: 50, description: 'All must hold' }),
  segments: Type.Optional(Type.Array(SegmentKey, { maxItems: 20, description: 'The context must be in every one' })),
  serve: Serve,
};

export const RuleSchema = Type.Object(
  {
    id: Uuid,
    flagKey: FlagKey,
    environment: Type.String(),
    priority: Type.Integer({ description: '0 is evaluated first' }),
    name: Type.String(),
    conditions: Type.Array(Condition),
    segments: Type.Array(Type.String()),
    serve: Serve,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Rule' },
);

export const SegmentFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  conditions: Type.Optional(Type.Array(Condition, { maxItems: 50, description: 'All must hold' })),
  included: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 10_000, description: 'Targeting keys always in' })),
  excluded: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 10_000, description: 'Targeting keys never in' })),
};

export const SegmentSchema = Type.Object(
  {
    key: SegmentKey,
    name: Type.String(),
    description: Type.String(),
    conditions: Type.Array(Condition),
    included: Type.Array(Type.String()),
    excluded: Type.Array(Type.String()),
    version: Type.Integer(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Segment' },
);

export const segmentView = ({ createdAt, updatedAt, ...segment }: StoredSegment) => ({ ...segment, createdAt: createdAt.toISOString(), updatedAt: updatedAt.toISOString() });

/** An evaluation context: `targetingKey` and any attributes. */
export const ContextSchema = Type.Object(
  { targetingKey: Type.Optional(Type.String({ maxLength: 256 })) },
  { additionalProperties: true, maxProperties: 200, description: 'targetingKey plus any attributes' },
);

export const IfMatchHeaders = Type.Object({ 'if-match': Type.Optional(Type.String()) });

