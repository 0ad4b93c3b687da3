import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { AppError } from '../../shared/http/problem.ts';
import type { SdkKeyKind } from '../../shared/contracts/access-model.ts';
import type { SdkKeyGrant, SdkKeyVerifier } from '../../shared/http/sdk-keys.ts';
import type { CompiledEnvironment, EvaluateOptions } from '../../shared/engine/index.ts';

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

type Scope = Readonly<Pick<EvaluateOptions, 'clientSide' | 'project'>>;
const scopes = { server: new Map<string, Scope>(), client: new Map<string, Scope>() };

/**
 * What a key may evaluate, as the engine's options: its project's flags (a client key: of those, the client-visible
 * ones). One frozen object per project and kind, so no request allocates its own.
 */
export function scopeOf(grant: SdkKeyGrant): Scope {
  const byProject = scopes[grant.kind];
  let scope = byProject.get(grant.project);
  if (scope === undefined) {
    scope = Object.freeze({ clientSide: grant.kind === 'client', project: grant.project });
    byProject.set(grant.project, scope);
  }
  return scope;
}

/**
 * Whether `flagKey` is a flag of another project than the key's: answered as unknown to the key, and not counted
 * as that flag's evaluation (the other project's analytics are not the key's to write).
 */
export function ofAnotherProject(env: CompiledEnvironment, flagKey: string, grant: SdkKeyGrant): boolean {
  const flag = env.flags.get(flagKey);
  return flag !== undefined && flag.project !== grant.project;
}
