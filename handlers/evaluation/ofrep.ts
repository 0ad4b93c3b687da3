import { hash } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { EvaluationErrorCode, EvaluationResult, Reason } from '../../shared/contracts/evaluation-model.ts';
import { AppError } from '../../shared/http/problem.ts';
import { ofrepEventStreamPath } from '../../shared/contracts/ofrep/event-stream.ts';
import { mintStreamToken } from './event-streams/stream-tokens.ts';
import type { EventStreams } from './routes/route-deps.ts';

/*
 * OFREP 0.3.0 (shared/contracts/ofrep/openapi.yaml) and the engine's answers, side by side. Its tests hold every
 * answer of both routes to that document: handlers/evaluation/ofrep-conformance.test.ts.
 */

/** OFREP's reasons, a closed set (`evaluationSuccess.reason`). */
export const ofrepReasons = ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'UNKNOWN'] as const;
export type OfrepReason = (typeof ofrepReasons)[number];

/** OFREP's error codes of a failed evaluation (`evaluationFailure.errorCode`); not found has its own answer, 404. */
export const ofrepErrorCodes = ['PARSE_ERROR', 'TARGETING_KEY_MISSING', 'INVALID_CONTEXT', 'GENERAL'] as const;
export type OfrepErrorCode = (typeof ofrepErrorCodes)[number];

/**
 * The engine's reason as OFREP names it. OFREP has no DEFAULT, which the engine answers when a flag has rules, none
 * matched, and the default serve is one variant (a split default answers SPLIT). That value is the flag's configured
 * one: no rule chose it (TARGETING_MATCH would say one did), no split did, and UNKNOWN would drop what is known — so
 * STATIC, with the engine's own reason kept in `metadata.reason` (docs/targeting.md, "Answers over OFREP").
 */
const ofrepReasonOf: Record<Exclude<Reason, 'ERROR'>, OfrepReason> = {
  STATIC: 'STATIC',
  TARGETING_MATCH: 'TARGETING_MATCH',
  SPLIT: 'SPLIT',
  DISABLED: 'DISABLED',
  DEFAULT: 'STATIC',
};

function ofrepErrorCodeOf(code: EvaluationErrorCode | undefined): OfrepErrorCode {
  return (ofrepErrorCodes as readonly string[]).includes(code ?? '') ? (code as OfrepErrorCode) : 'GENERAL';
}

/** The values OFREP carries: a boolean, a string, a number or an object (never an array, null or nothing). */
function isOfrepValue(value: unknown): boolean {
  const type = typeof value;
  return type === 'boolean' || type === 'string' || type === 'number' || (type === 'object' && value !== null && !Array.isArray(value));
}

export interface OfrepSuccessBody {
  key: string;
  reason: OfrepReason;
  variant?: string | undefined;
  value: unknown;
  metadata?: Record<string, string>;
}

export interface OfrepFailureBody {
  key: string;
  errorCode: OfrepErrorCode | 'FLAG_NOT_FOUND';
  errorDetails: string;
}

/** An evaluation result in OFREP's shape: a success, or a failure with its HTTP status. */
export type OfrepAnswer = { status: 200; body: OfrepSuccessBody } | { status: 400 | 404; body: OfrepFailureBody };

export function ofrepNotFound(key: string, errorDetails: string): OfrepAnswer {
  return { status: 404, body: { key, errorCode: 'FLAG_NOT_FOUND', errorDetails } };
}

function toOfrep(result: EvaluationResult): OfrepAnswer {
  const key = result.flagKey;
  if (result.reason === 'ERROR') {
    if (result.errorCode === 'FLAG_NOT_FOUND') return ofrepNotFound(key, result.errorMessage ?? '');
    return { status: 400, body: { key, errorCode: ofrepErrorCodeOf(result.errorCode), errorDetails: result.errorMessage ?? '' } };
  }
  // Only configuration stored before json values had to be objects gets here: an error, not a body OFREP refuses.
  if (!isOfrepValue(result.value)) {
    return {
      status: 400,
      body: {
        key,
        errorCode: 'GENERAL',
        errorDetails: `variant "${result.variant}" of flag "${key}" is not a JSON object, the only structured value OFREP carries: make it one`,
      },
    };
  }
  const reason = ofrepReasonOf[result.reason];
  const metadata: Record<string, string> = {};
  if (result.ruleId) metadata.ruleId = result.ruleId;
  if (reason !== result.reason) metadata.reason = result.reason;
  return {
    status: 200,
    body: { key, reason, variant: result.variant, value: result.value, ...(Object.keys(metadata).length > 0 ? { metadata } : {}) },
  };
}

/** An answer's OFREP JSON and a short hash of it. */
export interface OfrepJson {
  status: OfrepAnswer['status'];
  json: string;
  digest: string;
}

export function jsonOfAnswer(answer: OfrepAnswer): OfrepJson {
  const json = JSON.stringify(answer.body);
  return { status: answer.status, json, digest: hash('sha256', json, 'base64url').slice(0, 16) };
}

// The engine's answers are frozen objects built when a flag is compiled and shared by every request that gets
// them, so each one's JSON is made and hashed once, and dropped with the compiled flag.
const jsonOfShared = new WeakMap<EvaluationResult, OfrepJson>();

export function ofrepJson(result: EvaluationResult): OfrepJson {
  const known = jsonOfShared.get(result);
  if (known) return known;
  const made = jsonOfAnswer(toOfrep(result));
  if (Object.isFrozen(result)) jsonOfShared.set(result, made);
  return made;
}

/**
 * OFREP routes answer errors in OFREP's shapes, not problem+json, and only with the statuses OFREP lists: 401, 403
 * and 429 have no body (the status and WWW-Authenticate or Retry-After say it all); a request that cannot be read
 * — not JSON, not sent as JSON, too large, or a context of the wrong shape — is a 400 PARSE_ERROR or
 * INVALID_CONTEXT; anything else is a 5xx with errorDetails only.
 */
export function ofrepErrorHandler(error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply): void {
  const key = (request.params as { key?: string } | undefined)?.key;
  const fail = (errorCode: OfrepErrorCode, errorDetails: string) =>
    void reply.code(400).send({ ...(key !== undefined ? { key } : {}), errorCode, errorDetails });
  const status =
    error instanceof AppError ? error.status : typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
  if (error instanceof AppError && error.headers) void reply.headers(error.headers);
  if (status === 401 || status === 403 || status === 429) {
    // RFC 9110 §15.5.2: a 401 names a scheme to authenticate with; OFREP's are a bearer token or X-API-Key.
    if (status === 401 && !reply.hasHeader('www-authenticate')) void reply.header('www-authenticate', 'Bearer');
    void reply.code(status).send();
    return;
  }
  if (!(error instanceof AppError) && error.validation) {
    return fail(
      'INVALID_CONTEXT',
      error.validation.map((v) => `${error.validationContext ?? 'body'}${v.instancePath} ${v.message ?? v.keyword}`).join('; '),
    );
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return fail('PARSE_ERROR', 'The body must be a JSON object, sent as application/json: {"context": {...}}');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return fail('INVALID_CONTEXT', 'The context is larger than this service accepts');
  }
  if (error instanceof SyntaxError)
    return fail('PARSE_ERROR', 'The body must be a JSON object, sent as application/json: {"context": {...}}');
  if (status < 500) return fail('GENERAL', error.message);
  if (!(error instanceof AppError)) request.log.error({ err: error }, 'OFREP request failed');
  // An AppError's message was written for the caller (e.g. keys not loaded yet); anything else may hold internals.
  void reply.code(status).send({ errorDetails: error instanceof AppError ? error.message : 'An unexpected error occurred' });
}

/**
 * Whether If-None-Match names this ETag, by RFC 9110 §13.1.2: `*`, or a list of entity tags compared weakly — a
 * `W/` on either side does not matter (a cached bulk answer is as good as the same one, byte for byte or not).
 */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const opaque = etag.replace(/^W\//, '');
  for (const tag of header.match(/\*|(?:W\/)?"[^"]*"/g) ?? []) if (tag === '*' || tag.replace(/^W\//, '') === opaque) return true;
  return false;
}

/** How long a re-fetch that names a version this instance has not applied yet waits for it (it is on its way). */
export const catchUpMs = 1_000;

/** The bulk answer's `eventStreams` member (JSON, with its leading comma), for a key this instance streams to. */
export function eventStreamsMember(eventStreams: EventStreams | undefined, keyId: string): string {
  const key = eventStreams?.keyById(keyId);
  if (!key) return '';
  const requestUri = `${ofrepEventStreamPath}?token=${mintStreamToken(key)}`;
  // `endpoint` without an origin: the SDK joins it to the base URL it already uses (behind any proxy).
  return `,"eventStreams":[{"type":"sse","endpoint":{"requestUri":${JSON.stringify(requestUri)}},"inactivityDelaySec":120}]`;
}

/** The version a change event announced (`flagConfigEtag`), as the event's `etag` wrote it: "id" (or W/"id"). */
export const versionIdOf = (etag: string) => etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
