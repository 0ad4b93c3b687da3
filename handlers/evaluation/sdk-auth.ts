import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { Credential } from '../../shared/clients/service-client.ts';
import { AppError } from '../../shared/http/problem.ts';
import type { SdkKeyGrant, SdkKeyVerifier } from '../../shared/http/sdk-keys.ts';

declare module 'fastify' {
  interface FastifyRequest {
    sdk?: { environment: string; credential: Credential };
  }
}

/**
 * The SDK key from `X-API-Key` or `Authorization: Bearer` (both are OFREP's); it decides the environment. A
 * callback hook: a key this connection already proved is settled without waiting a turn of the event loop.
 */
export function requireSdkKey(sdkKeys: SdkKeyVerifier) {
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const header = request.headers['x-api-key'];
    const key = typeof header === 'string' && header.length > 0 ? header : request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!key) throw new AppError('UNAUTHENTICATED', 'Send an SDK key as X-API-Key or "Authorization: Bearer <key>"', { headers: { 'www-authenticate': 'Bearer' } });
    const admit = (grant: SdkKeyGrant) => {
      request.sdk = { environment: grant.environment, credential: { apiKey: key } };
      done();
    };
    const grant = sdkKeys.verify(key, { connection: request.raw.socket, address: request.ip });
    if (grant instanceof Promise) grant.then(admit, done);
    else admit(grant);
  };
}

export function sdkOf(request: FastifyRequest): { environment: string; credential: Credential } {
  if (!request.sdk) throw new Error('sdkOf() on a route without requireSdkKey()');
  return request.sdk;
}
