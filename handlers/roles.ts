import type pg from 'pg';
import type { Migration } from 'kysely/migration';
import type { Role } from '../shared/config/config.ts';
import { createDatabase, migrateToLatest } from '../shared/db/database.ts';
import type { ServiceContext, StartedService } from '../shared/runtime/service.ts';
import { authSchema, startAuth } from './auth/auth-app.ts';
import { authMigrations } from './auth/migrations/index.ts';
import { flagsSchema, startFlags } from './flags/flags-app.ts';
import { flagsMigrations } from './flags/migrations/index.ts';
import { startTargeting, targetingSchema } from './targeting/targeting-app.ts';
import { targetingMigrations } from './targeting/migrations/index.ts';
import { startEvaluation } from './evaluation/evaluation-app.ts';
import { startAnalytics } from './analytics/analytics-app.ts';
import { startAnalyticsWorker } from './analytics/analytics-worker.ts';
import { startConsole } from './console/console-app.ts';
import type { Config, FrontendRole, WorkerRole } from '../shared/config/config.ts';
import type { Logger } from '../shared/logging/logger.ts';

export interface RoleDefinition {
  start(ctx: ServiceContext): Promise<StartedService>;
  /** Services that own a PostgreSQL database: their schema and forward-only migrations. */
  database?: { schema: string; migrations: Record<string, Migration> };
}

/** Every service this image can run, by the name the role switch takes; the all-in-one process starts them all. */
export const services: Partial<Record<Role, RoleDefinition>> = {
  auth: { start: startAuth, database: { schema: authSchema, migrations: authMigrations } },
  flags: { start: startFlags, database: { schema: flagsSchema, migrations: flagsMigrations } },
  targeting: { start: startTargeting, database: { schema: targetingSchema, migrations: targetingMigrations } },
  evaluation: { start: startEvaluation },
  analytics: { start: startAnalytics },
};

/** How a role without a store of its own is started: a worker or a front end. */
export type StandaloneStart = (deps: { config: Config; logger: Logger; port: number }) => Promise<StartedService>;

/** Queue workers, started by the same role switch (no HTTP API; health and metrics on their port). */
export const workers: Record<WorkerRole, StandaloneStart> = {
  'analytics-worker': startAnalyticsWorker,
};

/** Front ends: the web console, which serves the single-page app and proxies the API prefixes to the services. */
export const frontends: Record<FrontendRole, StandaloneStart> = {
  console: startConsole,
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
  const applied: Record<string, string[]> = {};
  for (const role of roles) {
    const database = services[role]?.database;
    if (database) applied[role] = await migrateToLatest(createDatabase<unknown>(pool, database.schema), database.schema, database.migrations);
  }
  return applied;
}
