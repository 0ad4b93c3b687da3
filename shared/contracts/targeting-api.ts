import { Type } from 'typebox';
import { Timestamp, Uuid } from '../http/schemas.ts';
import { AuditActorSchema, AuditChangeSchema } from './audit-api.ts';
import { evaluationErrorCodes, reasons } from './evaluation-model.ts';
import { FlagKey, Serve } from './flag-model.ts';
import { ProjectKey } from './project-model.ts';
import { Condition, operators, SegmentKey } from './targeting-model.ts';

/**
 * What the targeting service answers: the route schemas it validates and serializes with, and the OpenAPI
 * document's. The console takes its types from these (type-only), so the two cannot drift apart.
 */

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

export const SegmentSchema = Type.Object(
  {
    key: SegmentKey,
    project: { ...ProjectKey, description: 'The project it belongs to; only rules of its flags may use the segment' },
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

/** One entry of GET /targeting/history. */
export const TargetingAuditEntrySchema = Type.Object({
  id: Type.Integer(),
  entity: Type.Enum(['rule', 'segment']),
  entityKey: Type.String(),
  flagKey: Type.Union([Type.String(), Type.Null()]),
  environment: Type.Union([Type.String(), Type.Null()]),
  project: Type.String({ description: "The project it was written in: the segment's, or the rule's flag's" }),
  action: Type.Enum(['created', 'updated', 'deleted', 'reordered']),
  actor: AuditActorSchema,
  at: Timestamp,
  changes: Type.Array(AuditChangeSchema),
  before: Type.Unknown(),
  after: Type.Unknown(),
});

/** What evaluation answers for the flag and context (evaluation-model's EvaluationResult). */
export const MatchResultSchema = Type.Object({
  flagKey: Type.String(),
  value: Type.Optional(Type.Unknown()),
  variant: Type.Optional(Type.String()),
  reason: Type.Enum([...reasons]),
  ruleId: Type.Optional(Type.String()),
  errorCode: Type.Optional(Type.Enum([...evaluationErrorCodes])),
  errorMessage: Type.Optional(Type.String()),
});

/** Why: the engine's explanation (shared/engine/explain.ts), every prerequisite and every rule in priority order. */
export const MatchExplanationSchema = Type.Object(
  {
    prerequisites: Type.Array(
      Type.Object({
        flagKey: Type.String(),
        variant: Type.String({ description: 'The variant the prerequisite must serve' }),
        served: Type.Optional(Type.String({ description: 'What it served (absent when it does not exist or answered an error)' })),
        met: Type.Boolean(),
      }),
    ),
    rules: Type.Array(
      Type.Object({
        ruleId: Type.String(),
        priority: Type.Integer(),
        matched: Type.Boolean({ description: 'All conditions held and all segments contain the context' }),
        conditions: Type.Array(
          Type.Object({
            attribute: Type.String(),
            operator: Type.Enum([...operators]),
            negate: Type.Boolean(),
            held: Type.Boolean(),
            actual: Type.Optional(Type.Unknown({ description: "The attribute's value in the context (absent when it has none)" })),
          }),
        ),
        segments: Type.Array(
          Type.Object({ key: Type.String(), held: Type.Boolean({ description: 'The segment exists and contains the context' }) }),
        ),
      }),
    ),
  },
  { description: 'Prerequisites, and for each rule in order whether it matched and which conditions and segments held' },
);

/** POST /targeting/match. */
export const MatchAnswerSchema = Type.Object({ result: MatchResultSchema, explanation: MatchExplanationSchema });
