import type { FastifyRequest } from 'fastify';
import type { Credential } from '../../shared/clients/service-client.ts';
import { AppError } from '../../shared/http/problem.ts';
import type { SdkKeyVerifier } from '../../shared/http/sdk-keys.ts';

declare module 'fastify' {
  interface FastifyRequest {
    sdk?: { environment: string; credential: Credential };
  }
}

/** The SDK key from `X-API-Key` or `Authorization: Bearer` (both are OFREP's); it decides the environment. */
export function requireSdkKey(sdkKeys: SdkKeyVerifier) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers['x-api-key'];
    const bearer = request.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    const key = typeof header === 'string' && header.length > 0 ? header : bearer;
    if (!key) throw new AppError('UNAUTHENTICATED', 'Send an SDK key as X-API-Key or "Authorization: Bearer <key>"', { headers: { 'www-authenticate': 'Bearer' } });
    const grant = await sdkKeys.verify(key, request.raw.socket);
    request.sdk = { environment: grant.environment, credential: { apiKey: key } };
  };
}

export function sdkOf(request: FastifyRequest): { environment: string; credential: Credential } {
  if (!request.sdk) throw new Error('sdkOf() on a route without requireSdkKey()');
  return request.sdk;
}
