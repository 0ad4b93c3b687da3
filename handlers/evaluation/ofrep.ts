import { hash } from 'node:crypto';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { EvaluationResult } from '../../shared/contracts/evaluation-model.ts';
import { AppError } from '../../shared/http/problem.ts';

/** An evaluation result in OFREP's shape: a success, or a failure with its HTTP status. */
export type OfrepAnswer =
  | { status: 200; body: { key: string; reason: string; variant?: string | undefined; value: unknown; metadata?: Record<string, string> } }
  | { status: 400 | 404; body: { key: string; errorCode: string; errorDetails: string } };

function toOfrep(result: EvaluationResult): OfrepAnswer {
  if (result.reason === 'ERROR') {
    const body = { key: result.flagKey, errorCode: result.errorCode ?? 'GENERAL', errorDetails: result.errorMessage ?? '' };
    return { status: result.errorCode === 'FLAG_NOT_FOUND' ? 404 : 400, body };
  }
  return {
    status: 200,
    body: {
      key: result.flagKey,
      reason: result.reason,
      variant: result.variant,
      value: result.value,
      ...(result.ruleId ? { metadata: { ruleId: result.ruleId } } : {}),
    },
  };
}

/** An answer's OFREP JSON and a short hash of it. */
export interface OfrepJson {
  status: OfrepAnswer['status'];
  json: string;
  digest: string;
}

// The engine's answers are frozen objects built when a flag is compiled and shared by every request that gets
// them, so each one's JSON is made and hashed once, and dropped with the compiled flag.
const jsonOfShared = new WeakMap<EvaluationResult, OfrepJson>();

export function ofrepJson(result: EvaluationResult): OfrepJson {
  const known = jsonOfShared.get(result);
  if (known) return known;
  const answer = toOfrep(result);
  const json = JSON.stringify(answer.body);
  const made = { status: answer.status, json, digest: hash('sha256', json, 'base64url').slice(0, 16) };
  if (Object.isFrozen(result)) jsonOfShared.set(result, made);
  return made;
}

/**
 * OFREP routes answer errors in OFREP's shape, not problem+json: a body the SDK cannot read is INVALID_CONTEXT
 * or PARSE_ERROR (400); authentication keeps its 401/403; anything else is a 5xx with errorDetails only.
 */
export function ofrepErrorHandler(error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply): void {
  const key = (request.params as { key?: string } | undefined)?.key;
  if (error instanceof AppError) {
    if (error.headers) void reply.headers(error.headers);
    void reply.code(error.status).send({ errorDetails: error.message });
    return;
  }
  if (error.validation) {
    const details = error.validation.map((v) => `${error.validationContext ?? 'body'}${v.instancePath} ${v.message ?? v.keyword}`).join('; ');
    void reply.code(400).send({ ...(key ? { key } : {}), errorCode: 'INVALID_CONTEXT', errorDetails: details });
    return;
  }
  if (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error instanceof SyntaxError) {
    void reply.code(400).send({ ...(key ? { key } : {}), errorCode: 'PARSE_ERROR', errorDetails: 'The body must be a JSON object: {"context": {...}}' });
    return;
  }
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
  if (status >= 500) request.log.error({ err: error }, 'OFREP request failed');
  void reply.code(status).send(status >= 500 ? { errorDetails: 'An unexpected error occurred' } : { ...(key ? { key } : {}), errorCode: 'GENERAL', errorDetails: error.message });
}
