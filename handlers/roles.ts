import type pg from 'pg';
import type { Migration } from 'kysely/migration';
import type { Role } from '../shared/config/config.ts';
import type { ServiceContext, StartedService } from '../shared/runtime/service.ts';
import type { Config, FrontendRole, WorkerRole } from '../shared/config/config.ts';
import type { Logger } from '../shared/logging/logger.ts';

/**
 * A role's start function, its module loaded only when it is called: a process loads its own role's code (argon2,
 * the AWS SDK, swagger, … for others it never runs), which is most of the cold start and of the idle memory.
 */
function lazily<Deps, Started>(load: () => Promise<(deps: Deps) => Promise<Started>>): (deps: Deps) => Promise<Started> {
  return async (deps) => (await load())(deps);
}

export interface RoleDefinition {
  start(ctx: ServiceContext): Promise<StartedService>;
  /**
   * Services that own a PostgreSQL database: their schema and forward-only migrations, loaded by `migrate` only (a
   * role that does not migrate never loads Kysely's migrator and every migration of the three databases).
   */
  database?: { load(): Promise<{ schema: string; migrations: Record<string, Migration> }> };
}

/** Every service this image can run, by the name the role switch takes; the all-in-one process starts them all. */
export const services: Partial<Record<Role, RoleDefinition>> = {
  auth: {
    start: lazily(async () => (await import('./auth/auth-app.ts')).startAuth),
    database: {
      load: async () => {
        const { authSchema, authMigrations } = await import('./auth/migrations/index.ts');
        return { schema: authSchema, migrations: authMigrations };
      },
    },
  },
  flags: {
    start: lazily(async () => (await import('./flags/flags-app.ts')).startFlags),
    database: {
      load: async () => {
        const { flagsSchema, flagsMigrations } = await import('./flags/migrations/index.ts');
        return { schema: flagsSchema, migrations: flagsMigrations };
      },
    },
  },
  targeting: {
    start: lazily(async () => (await import('./targeting/targeting-app.ts')).startTargeting),
    database: {
      load: async () => {
        const { targetingSchema, targetingMigrations } = await import('./targeting/migrations/index.ts');
        return { schema: targetingSchema, migrations: targetingMigrations };
      },
    },
  },
  evaluation: { start: lazily(async () => (await import('./evaluation/evaluation-app.ts')).startEvaluation) },
  analytics: { start: lazily(async () => (await import('./analytics/analytics-app.ts')).startAnalytics) },
};

/**
 * How a worker or a front end is started: it opens what it needs itself, except the database pool the all-in-one
 * process shares (a worker that writes a service's tables, such as the release worker, uses that service's).
 */
export type StandaloneStart = (deps: { config: Config; logger: Logger; port: number; pool?: pg.Pool }) => Promise<StartedService>;

/** Queue workers, started by the same role switch (no HTTP API; health and metrics on their port). */
export const workers: Record<WorkerRole, StandaloneStart> = {
  'analytics-worker': lazily(async () => (await import('./analytics/analytics-worker.ts')).startAnalyticsWorker),
  'release-worker': lazily(async () => (await import('./flags/release-worker.ts')).startReleaseWorker),
  'webhook-worker': lazily(async () => (await import('./flags/webhook-worker.ts')).startWebhookWorker),
};

/** Front ends: the web console, which serves the single-page app and proxies the API prefixes to the services. */
export const frontends: Record<FrontendRole, StandaloneStart> = {
  console: lazily(async () => (await import('./console/console-app.ts')).startConsole),
};

export function isWorkerRole(name: string): name is WorkerRole {
  return name in workers;
}

export function isFrontendRole(name: string): name is FrontendRole {
  return name in frontends;
}

export function isServiceRole(name: string): name is Role {
  return name in services;
}

/** Applies each named service's migrations in its own schema of the given pool's database. */
export async function migrate(pool: pg.Pool, roles: Role[]): Promise<Record<string, string[]>> {
  const { createDatabase, migrateToLatest } = await import('../shared/db/database.ts');
  const applied: Record<string, string[]> = {};
  for (const role of roles) {
    const database = await services[role]?.database?.load();
    if (database)
      applied[role] = await migrateToLatest(createDatabase<unknown>(pool, database.schema), database.schema, database.migrations);
  }
  return applied;
}
