import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { AppError } from '../../shared/http/problem.ts';
import type { SdkKeyGrant, SdkKeyVerifier } from '../../shared/http/sdk-keys.ts';

declare module 'fastify' {
  interface FastifyRequest {
    sdk?: SdkKeyGrant;
  }
}

/**
 * The SDK key from `X-API-Key` or `Authorization: Bearer` (both are OFREP's); it decides the environment. A
 * callback hook: keys are admitted from memory, so no request waits a turn of the event loop for it.
 */
export function requireSdkKey(sdkKeys: SdkKeyVerifier) {
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const header = request.headers['x-api-key'];
    const key = typeof header === 'string' && header.length > 0 ? header : request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!key)
      throw new AppError('UNAUTHENTICATED', 'Send an SDK key as X-API-Key or "Authorization: Bearer <key>"', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    request.sdk = sdkKeys.verify(key, { connection: request.raw.socket, address: request.ip });
    done();
  };
}

export function sdkOf(request: FastifyRequest): SdkKeyGrant {
  if (!request.sdk) throw new Error('sdkOf() on a route without requireSdkKey()');
  return request.sdk;
}
