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
};

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
