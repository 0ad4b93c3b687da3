import { createHash, randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../shared/http/problem.ts';

/**
 * The batch id of an ingestion request: derived from the SDK key and the request's Idempotency-Key, so a request
 * sent again (after a timeout or a 503) writes the same items and counts once; random without one. `kind` keeps a
 * metric batch and an evaluation batch of the same key apart.
 */
export function ingestBatchId(kind: 'm' | 'e', keyId: string, idempotencyKey: string | undefined): string {
  if (idempotencyKey === undefined) return `${kind}${randomUUID().replaceAll('-', '')}`;
  return `${kind}${createHash('sha256').update(`${keyId}\u0000${idempotencyKey}`).digest('base64url').slice(0, 32)}`;
}

/** Sends what a request reported to the queue; a refusal is a 503 the client answers by sending it again. */
export async function queueOrRetryLater(request: FastifyRequest, send: () => Promise<void>): Promise<void> {
  try {
    await send();
  } catch (error) {
    request.log.warn({ err: error }, 'reported events not queued; the client is told to send them again');
    throw new AppError('SERVICE_UNAVAILABLE', 'The events could not be queued; send them again (with the same Idempotency-Key)', {
      headers: { 'retry-after': '1' },
    });
  }
}
