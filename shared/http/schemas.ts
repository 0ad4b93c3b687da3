import { isDeepStrictEqual } from 'node:util';
import { Type, type Static, type TProperties, type TObject, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { AppError, type FieldError, type Problem } from './problem.ts';
import { containsNul } from './validation.ts';

/** A closed object: an unknown field is a 400, never silently dropped. */
export function Strict<T extends TProperties>(
  properties: T,
  options: { description?: string; $id?: string; minProperties?: number } = {},
): TObject<T> {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

/**
 * A field a GET answers that a PUT may send back with the rest of the document, so that "GET, edit, PUT" works: it
 * is accepted and not applied. Fields the service keeps for itself (version, timestamps, state that another route
 * changes) are ignored; fields that say which resource this is (key, id, salt…) are checked by `changedFields`.
 */
export function ReadOnly<T extends TSchema>(schema: T, description = 'Read-only: accepted as GET answered it, and ignored') {
  return Type.Optional({ ...schema, readOnly: true, description });
}

/** The fixed fields a PUT sent with a value other than the stored one, each named, for a 400. */
export function changedFields(sent: object, stored: object, reasons: Record<string, string>): FieldError[] {
  const before = stored as Record<string, unknown>;
  const after = sent as Record<string, unknown>;
  return Object.entries(reasons)
    .filter(([field]) => after[field] !== undefined && !isDeepStrictEqual(after[field], before[field]))
    .map(([field, reason]) => ({
      path: `body/${field}`,
      message: `cannot change (${reason}): it is ${JSON.stringify(before[field])}, not ${JSON.stringify(after[field])}`,
    }));
}

const ProblemRef = Type.Unsafe<Problem>({ $ref: 'Problem#' });

/** The error answers every route documents: all of them are application/problem+json. */
export const problemResponses = { '4xx': ProblemRef, '5xx': ProblemRef } as const;

export const Timestamp = Type.String({ format: 'date-time' });
export const Uuid = Type.String({ format: 'uuid' });
export const Limit = Type.Integer({ minimum: 1, maximum: 200, default: 50 });
export const Cursor = Type.String({ minLength: 1, maxLength: 512 });

/** An opaque page cursor: a store's position (a small JSON value), base64url-encoded. */
export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

/**
 * The position a cursor of `encodeCursor` holds. A cursor that decodes to anything else — not JSON, another shape,
 * a NUL — was not handed out by us: a 400 naming the cursor, before it reaches a store.
 */
export function decodeCursor<T extends TSchema>(cursor: string, position: T): Static<T> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (value === undefined || !Value.Check(position, value) || containsNul(value)) {
    throw new AppError('VALIDATION_FAILED', 'The cursor is not one this list handed out; start again without it', {
      errors: [{ path: 'querystring/cursor', message: 'is not a cursor of this list' }],
    });
  }
  return value;
}

export const bearerSecurity: Record<string, string[]>[] = [{ bearer: [] }];
/** Evaluation: an SDK key as X-API-Key or as a bearer token. */
export const sdkKeySecurity: Record<string, string[]>[] = [{ apiKey: [] }, { bearer: [] }];
