import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AppError } from './problem.ts';
import type { Config } from '../config/config.ts';
import type { Credential } from '../clients/service-client.ts';
import { defaultProject } from '../contracts/project-model.ts';

export const roles = ['viewer', 'editor', 'admin'] as const;
export type UserRole = (typeof roles)[number];
export const RoleSchema = Type.Enum([...roles]);

export interface Principal {
  userId: string;
  email: string;
  /** The account's role: admin is the organisation's administrator (admin of every project); otherwise the role in the default project. */
  role: UserRole;
  /** Roles granted in projects by membership (a membership of the default project can raise the account's role there). */
  projects?: Readonly<Record<string, UserRole>>;
}

/** The one algorithm tokens are signed with; anything else (`none`, HS256 with the public key…) is refused. */
export const tokenAlgorithm = 'ES256';

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

interface Claims {
  sub: string;
  email: string;
  role: UserRole;
}

function isClaims(payload: JWTPayload): payload is JWTPayload & Claims {
  return (
    typeof payload.sub === 'string' &&
    payload.sub.length > 0 &&
    typeof payload.email === 'string' &&
    roles.includes(payload.role as UserRole)
  );
}

/**
 * A user's current role and standing, where the service can know it (auth: its database; the others: the access
 * replica). `undefined`: not known here yet (a user made a moment ago), so the token's own claims stand.
 */
export type CurrentAccess = (userId: string) => Standing | undefined | Promise<Standing | undefined>;
type Standing = { role: UserRole; disabled: boolean; projects?: Readonly<Record<string, UserRole>> | undefined };

export interface TokenVerifierOptions {
  keys: JWTVerifyGetKey | URL;
  issuer: string;
  audience: string;
  /** ACCESS_TOKEN_TTL_SECONDS: a token issued for longer than auth issues them was not issued by auth as configured. */
  maxLifetimeSeconds: number;
  currentAccess?: CurrentAccess;
}

/**
 * Verifies access tokens locally against the auth service's JWKS (fetched once, refreshed on an unknown `kid`),
 * then judges the caller by their current access: a disabled user is refused and a changed role applies at once,
 * not when the token expires.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { keys } = options;
  // The remote set is made on the first token, not at start-up: making it loads Node's fetch (undici, ~30 ms of a
  // cold start), and most requests to the services that verify tokens this way carry an SDK key, not a token.
  let remote: JWTVerifyGetKey | undefined;
  const getKey: JWTVerifyGetKey =
    keys instanceof URL
      ? (header, token) => (remote ??= createRemoteJWKSet(keys, { cooldownDuration: 30_000, cacheMaxAge: 600_000 }))(header, token)
      : keys;

  async function claimsOf(token: string): Promise<Principal> {
    try {
      const { payload } = await jwtVerify(token, getKey, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms: [tokenAlgorithm],
        requiredClaims: ['exp', 'iat', 'sub'],
      });
      if (!isClaims(payload)) throw new AppError('UNAUTHENTICATED', 'The access token lacks the expected claims');
      if ((payload.exp ?? 0) - (payload.iat ?? 0) > options.maxLifetimeSeconds)
        throw new AppError('UNAUTHENTICATED', 'The access token lives longer than this deployment issues tokens for');
      return { userId: payload.sub, email: payload.email, role: payload.role, projects: {} };
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof joseErrors.JWTExpired) throw new AppError('UNAUTHENTICATED', 'The access token has expired');
      if (error instanceof joseErrors.JOSEError) throw new AppError('UNAUTHENTICATED', 'The access token is not valid');
      // The JWKS could not be fetched: not the caller's fault.
      throw new AppError('SERVICE_UNAVAILABLE', 'Tokens cannot be verified right now');
    }
  }

  return {
    async verify(token) {
      const principal = await claimsOf(token);
      const current = await options.currentAccess?.(principal.userId);
      if (!current) return principal;
      if (current.disabled) throw new AppError('UNAUTHENTICATED', 'This account is disabled; ask an administrator');
      return { ...principal, role: current.role, projects: current.projects ?? {} };
    },
  };
}

/** How every service but auth checks tokens: against the auth service's published JWKS and the access replica. */
export function jwksTokenVerifier(
  config: Pick<Config, 'AUTH_URL' | 'JWT_ISSUER' | 'JWT_AUDIENCE' | 'ACCESS_TOKEN_TTL_SECONDS'>,
  currentAccess?: CurrentAccess,
): TokenVerifier {
  return createTokenVerifier({
    keys: new URL('/auth/.well-known/jwks.json', config.AUTH_URL),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    maxLifetimeSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    ...(currentAccess ? { currentAccess } : {}),
  });
}

export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, token] = header.split(' ');
  return scheme?.toLowerCase() === 'bearer' && token ? token : undefined;
}

/** The caller's own token, passed on when a service asks another on the caller's behalf (flags ↔ targeting). */
export function callerCredential(request: FastifyRequest): Credential {
  return { bearer: bearerToken(request) ?? '' };
}

const rank: Record<UserRole, number> = { viewer: 0, editor: 1, admin: 2 };

/**
 * Of a request, the project it is about: named by `?project=` on lists and creates, or the project of the resource
 * it names. `undefined`: the resource is not there — the route answers its own 404, which tells nothing of a project.
 */
export type ProjectOf = (request: FastifyRequest) => string | undefined | Promise<string | undefined>;

/** The project a list or a create names with `?project=` (the default project when absent). */
export const projectInQuery: ProjectOf = (request) => (request.query as { project?: string } | undefined)?.project ?? defaultProject;

/** What `principal` may do in `project`: the organisation admin everything; others their membership (or, in the default project, their account's role). */
export function roleIn(principal: Principal, project: string): UserRole | undefined {
  if (principal.role === 'admin') return 'admin';
  const granted = principal.projects?.[project];
  if (project !== defaultProject) return granted;
  return granted !== undefined && rank[granted] > rank[principal.role] ? granted : principal.role;
}

/** Whether `principal` holds at least `minimum` in `project`. */
export function holds(principal: Principal, project: string, minimum: UserRole): boolean {
  const role = roleIn(principal, project);
  return role !== undefined && rank[role] >= rank[minimum];
}

/** The projects `principal` holds a role in, of those named (all of them for the organisation admin). */
export function projectsVisibleTo(principal: Principal, projects: readonly string[]): string[] {
  return projects.filter((project) => roleIn(principal, project) !== undefined);
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** The project a project-scoped route was authorised in. */
    project?: string;
  }
}

/**
 * An onRequest hook (before the body is even read) that lets through only callers holding at least `minimum` and
 * leaves who they are on the request. With `projectOf`, the role counted is the one in the request's project (and
 * that project is left on the request); without, the route is the organisation's (environments, users, projects):
 * the account's role counts.
 */
export function requireRole(verifier: TokenVerifier, minimum: UserRole, projectOf?: ProjectOf) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    if (!token)
      throw new AppError('UNAUTHENTICATED', 'Send an access token as "Authorization: Bearer <token>"', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    const principal = await verifier.verify(token);
    request.principal = principal;
    if (!projectOf) {
      if (rank[principal.role] < rank[minimum])
        throw new AppError('FORBIDDEN', `This needs the ${minimum} role; you are ${principal.role}`);
      return;
    }
    const project = await projectOf(request);
    if (project === undefined) {
      // The route answers 404; it still takes someone who holds the role somewhere to be told so.
      if (![principal.role, ...Object.values(principal.projects ?? {})].some((role) => rank[role] >= rank[minimum]))
        throw new AppError('FORBIDDEN', `This needs the ${minimum} role`);
      return;
    }
    if (!holds(principal, project, minimum)) {
      const role = roleIn(principal, project);
      throw new AppError(
        'FORBIDDEN',
        role ? `This needs the ${minimum} role in project ${project}; you are ${role}` : `You have no role in project ${project}`,
      );
    }
    request.project = project;
  };
}

/** The project a project-scoped route was authorised in; calling it on another route is a programming error. */
export function projectOfRequest(request: FastifyRequest): string {
  if (request.project === undefined) throw new Error('projectOfRequest() on a route not guarded by project');
  return request.project;
}

/** The principal a guarded route runs as; calling it on an unguarded route is a programming error. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('principalOf() on a route without requireRole()');
  return request.principal;
}
