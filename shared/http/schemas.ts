import { Type, type TProperties, type TObject } from 'typebox';
import type { Problem } from './problem.ts';

/** A closed object: an unknown field is a 400, never silently dropped. */
export function Strict<T extends TProperties>(properties: T, options: { description?: string; $id?: string; minProperties?: number } = {}): TObject<T> {
  return Type.Object(properties, { ...options, additionalProperties: false });
}

const ProblemRef = Type.Unsafe<Problem>({ $ref: 'Problem#' });

/** The error answers every route documents: all of them are application/problem+json. */
export const problemResponses = { '4xx': ProblemRef, '5xx': ProblemRef } as const;

export const Timestamp = Type.String({ format: 'date-time' });
export const Uuid = Type.String({ format: 'uuid' });
export const Limit = Type.Integer({ minimum: 1, maximum: 200, default: 50 });
export const Cursor = Type.String({ minLength: 1, maxLength: 512 });

export const bearerSecurity: Record<string, string[]>[] = [{ bearer: [] }];
/** Evaluation: an SDK key as X-API-Key or as a bearer token. */
export const sdkKeySecurity: Record<string, string[]>[] = [{ apiKey: [] }, { bearer: [] }];
/** Configuration reads: a person's token or an SDK key. */
export const readerSecurity: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];
