import { Type } from 'typebox';
import { flagTypes } from '../../shared/contracts/flag-model.ts';

export const FlagKeyParam = Type.String({ minLength: 1, maxLength: 200 });

/** An evaluation context: `targetingKey` plus attributes (strings, numbers, booleans, nested objects). */
export const ContextSchema = Type.Object(
  { targetingKey: Type.Optional(Type.String({ maxLength: 256 })) },
  { additionalProperties: true, maxProperties: 200, description: 'targetingKey plus any attributes' },
);

export const ExpectedType = Type.Enum([...flagTypes], { description: 'The type the caller expects; another type answers TYPE_MISMATCH' });

export const EvaluationResultSchema = Type.Object(
  {
    flagKey: Type.String(),
    value: Type.Optional(Type.Unknown()),
    variant: Type.Optional(Type.String()),
    reason: Type.Enum(['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DEFAULT', 'DISABLED', 'ERROR']),
    ruleId: Type.Optional(Type.String()),
    errorCode: Type.Optional(Type.String()),
    errorMessage: Type.Optional(Type.String()),
  },
  { $id: 'EvaluationResult' },
);

/** OFREP's answers (https://github.com/open-feature/protocol, service/openapi.yaml). */
export const OfrepSuccess = Type.Object({
  key: Type.String(),
  reason: Type.String(),
  variant: Type.Optional(Type.String()),
  value: Type.Unknown(),
  metadata: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]))),
});
export const OfrepFailure = Type.Object({ key: Type.Optional(Type.String()), errorCode: Type.String(), errorDetails: Type.Optional(Type.String()) });
export const OfrepRequest = Type.Object({ context: Type.Optional(ContextSchema) }, { additionalProperties: true });
