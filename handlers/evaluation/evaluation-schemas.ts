import { Type } from 'typebox';
import { flagTypes } from '../../shared/contracts/flag-model.ts';
import { ofrepErrorCodes, ofrepReasons } from './ofrep.ts';

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

/**
 * OFREP's answers as OFREP 0.3.0 describes them (shared/contracts/ofrep/openapi.yaml, copied from
 * open-feature/protocol); they document the routes here, and the tests hold the answers to the document itself.
 */
const OfrepMetadata = Type.Record(Type.String(), Type.Union([Type.Boolean(), Type.String(), Type.Number()]));
export const OfrepSuccess = Type.Object({
  key: Type.String(),
  reason: Type.Enum([...ofrepReasons], { description: 'The engine\'s DEFAULT is answered STATIC, with metadata.reason "DEFAULT"' }),
  variant: Type.Optional(Type.String()),
  value: Type.Union([Type.Boolean(), Type.String(), Type.Number(), Type.Object({}, { additionalProperties: true })]),
  metadata: Type.Optional(OfrepMetadata),
});
export const OfrepFailure = Type.Object({
  key: Type.String(),
  errorCode: Type.Enum([...ofrepErrorCodes]),
  errorDetails: Type.Optional(Type.String()),
});
export const OfrepFlagNotFound = Type.Object({
  key: Type.String(),
  errorCode: Type.Literal('FLAG_NOT_FOUND'),
  errorDetails: Type.Optional(Type.String()),
});
/** OFREP 0.3's `eventStream`: where to open the change stream (ToggleMaster answers `endpoint`, relative to the base URL). */
export const OfrepEventStream = Type.Object({
  type: Type.Literal('sse'),
  endpoint: Type.Object({
    requestUri: Type.String({ description: 'Path and query, the query holding the token that authorizes the stream' }),
  }),
  inactivityDelaySec: Type.Integer({ minimum: 1 }),
});
export const OfrepBulkFailure = Type.Object({ errorCode: Type.String(), errorDetails: Type.Optional(Type.String()) });
export const OfrepGeneralError = Type.Object({ errorDetails: Type.Optional(Type.String()) });
/** OFREP describes 401, 403 and 429 (and a bulk 304) without a body. */
export const ofrepBodiless = {
  401: Type.Null({ description: 'The SDK key is missing, unknown or revoked (WWW-Authenticate: Bearer)' }),
  403: Type.Null({ description: 'The SDK key may not do this' }),
  429: Type.Null({ description: 'Too many requests with bad keys from this address; see Retry-After' }),
};
export const OfrepRequest = Type.Object({ context: Type.Optional(ContextSchema) }, { additionalProperties: true });
