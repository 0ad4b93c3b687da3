import type { Kysely } from 'kysely';
import type { Cache } from '../../shared/cache/cache.ts';
import { createFallbackCache } from '../../shared/cache/fallback-cache.ts';
import type { Config } from '../../shared/config/config.ts';
import { createDatabase, migrateToLatest, pingDatabase } from '../../shared/db/database.ts';
import { createTokenVerifier } from '../../shared/http/authenticate.ts';
import { createHttpServer, type ReadinessCheck } from '../../shared/http/server.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { listen, type ServiceContext, type StartedService } from '../../shared/runtime/service.ts';
import { startAccessPublisher } from './access-publisher.ts';
import { authRoutes } from './auth-routes.ts';
import { createAuthService } from './auth-service.ts';
import type { AuthStore } from './auth-store.ts';
import { createMemoryAuthStore } from './auth-store.memory.ts';
import { createPostgresAuthStore, type AuthDatabase } from './auth-store.postgres.ts';
import { createLoginLimiter } from './login-limiter.ts';
import { authMigrations, authSchema } from './migrations/index.ts';
import { createDecoyHash } from './passwords.ts';
import { loadSigningKeys } from './signing-keys.ts';
import type { Credential } from '../../shared/clients/service-client.ts';
import { createFlagsClient } from '../../shared/clients/flags-client.ts';

/** One factory for both stores: PostgreSQL when given a database, memory otherwise (unit tests). */
export function createAuthStore(db?: Kysely<AuthDatabase>): AuthStore {
  return db ? createPostgresAuthStore(db) : createMemoryAuthStore();
}

export async function migrateAuth(db: Kysely<AuthDatabase>): Promise<string[]> {
  return migrateToLatest(db as Kysely<unknown>, authSchema, authMigrations);
}

export interface AuthAppDeps {
  config: Config;
  logger: Logger;
  store: AuthStore;
  cache: Cache;
  readiness?: ReadinessCheck[];
  /** The clock of the service's decisions (invitations' expiry); tests move it. */
  now?: () => Date;
  /** The environments there are; by default the flags service's (it owns them), asked with the caller's token. */
  environments?: (credential: Credential) => Promise<readonly string[]>;
  /** The project, if the caller may see it; by default the flags service's (it owns projects), asked with the caller's token. */
  findProject?: (key: string, credential: Credential) => Promise<{ key: string } | undefined>;
}

export async function buildAuthApp(deps: AuthAppDeps) {
  const { config, logger } = deps;
  const { keys, generated } = await loadSigningKeys(config.AUTH_JWT_PRIVATE_KEY);
  if (generated) logger.warn('AUTH_JWT_PRIVATE_KEY is not set: signing with a key made for this process (tokens end with it)');
  const service = createAuthService({
    store: deps.store,
    keys,
    // With Redis away, sign-in is throttled per process rather than refused: see createFallbackCache.
    limiter: createLoginLimiter(createFallbackCache(deps.cache, { logger }), {
      maxAttemptsPerAddress: config.LOGIN_MAX_ATTEMPTS_PER_ADDRESS,
      maxFailuresPerAccountAndAddress: config.LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS,
      maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    }),
    decoyHash: await createDecoyHash(),
    // FLAGS_URL read when asked: a test harness learns the flags service's port after auth has started.
    environments:
      deps.environments ?? (async (credential) => (await createFlagsClient(config.FLAGS_URL).environments(credential)).map((e) => e.key)),
    findProject: deps.findProject ?? ((key, credential) => createFlagsClient(config.FLAGS_URL).getProject(key, credential)),
    token: { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, ttlSeconds: config.ACCESS_TOKEN_TTL_SECONDS },
    registration: { selfRegistration: config.SELF_REGISTRATION, domains: config.SELF_REGISTRATION_DOMAINS },
    invitations: { ttlHours: config.INVITATION_TTL_HOURS, consoleUrl: config.CONSOLE_URL },
    ...(deps.now ? { now: deps.now } : {}),
  });
  // Auth judges callers by its own database: a disabled or demoted user's next request here sees the change, and
  // their project memberships count on auth's own project routes (members, SDK keys).
  const verifier = createTokenVerifier({
    keys: keys.getKey,
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    maxLifetimeSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    currentAccess: async (userId) => {
      const [user, projects] = await Promise.all([deps.store.findUserById(userId), deps.store.projectRolesOf([userId])]);
      return user && { role: user.role, disabled: user.disabled, projects: projects.get(userId) ?? {} };
    },
  });
  const served = await createHttpServer({
    name: 'auth',
    title: 'ToggleMaster auth',
    logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    readiness: deps.readiness ?? [],
    routes: authRoutes(service, keys, verifier),
  });
  return { ...served, service, keys };
}

export async function startAuth(ctx: ServiceContext): Promise<StartedService> {
  if (!ctx.pool) throw new Error('auth needs its database');
  const db = createDatabase<AuthDatabase>(ctx.pool, authSchema);
  if (ctx.config.MIGRATE_ON_START) await migrateAuth(db);
  const logger = ctx.logger.child({ service: 'auth' });
  const store = createAuthStore(db);
  const served = await buildAuthApp({
    config: ctx.config,
    logger,
    store,
    cache: ctx.cache,
    readiness: [
      { name: 'postgres', critical: true, check: () => pingDatabase(db as Kysely<unknown>) },
      // Only sign-in throttling uses the cache here, and it carries on per process without it: degraded, not down.
      { name: 'cache', critical: false, check: () => ctx.cache.ping() },
    ],
  });
  const { ADMIN_EMAIL, ADMIN_PASSWORD } = ctx.config;
  if (ADMIN_EMAIL && ADMIN_PASSWORD) {
    const outcome = await served.service.bootstrapAdmin(ADMIN_EMAIL, ADMIN_PASSWORD);
    logger.info({ email: ADMIN_EMAIL }, outcome === 'created' ? 'created the first admin' : 'admin account already exists; left as it is');
  }
  const publisher = startAccessPublisher({
    pool: ctx.pool,
    schema: authSchema,
    store,
    cache: ctx.configCache,
    logger,
    metrics: served.metrics,
  });
  return listen('auth', served, ctx, () => publisher.stop());
}
