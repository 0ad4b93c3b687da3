import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { AppError } from '../../shared/http/problem.ts';
import type { SdkKeyKind } from '../../shared/contracts/access-model.ts';
import type { SdkKeyGrant, SdkKeyVerifier } from '../../shared/http/sdk-keys.ts';

declare module 'fastify' {
  interface FastifyRequest {
    sdk?: SdkKeyGrant;
  }
}

/**
 * The SDK key from `X-API-Key` or `Authorization: Bearer` (both are OFREP's); it decides the environment. A
 * callback hook: keys are admitted from memory, so no request waits a turn of the event loop for it. `kinds` are
 * the kinds of key the route takes: a public `client` key only the OFREP routes, which then show it only the
 * client-visible flags.
 */
export function requireSdkKey(sdkKeys: SdkKeyVerifier, kinds: readonly SdkKeyKind[]) {
  return (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const header = request.headers['x-api-key'];
    const key = typeof header === 'string' && header.length > 0 ? header : request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!key)
      throw new AppError('UNAUTHENTICATED', 'Send an SDK key as X-API-Key or "Authorization: Bearer <key>"', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    const grant = sdkKeys.verify(key, { connection: request.raw.socket, address: request.ip });
    if (!kinds.includes(grant.kind)) {
      throw new AppError(
        'FORBIDDEN',
        `A ${grant.kind} key cannot call this endpoint: client keys evaluate through OFREP (/ofrep/v1/…) only`,
      );
    }
    request.sdk = grant;
    done();
  };
}

export function sdkOf(request: FastifyRequest): SdkKeyGrant {
  if (!request.sdk) throw new Error('sdkOf() on a route without requireSdkKey()');
  return request.sdk;
}
