import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { Migrator, type Migration } from 'kysely/migration';
import type { Config } from '../config/config.ts';
import type { Logger } from '../logging/logger.ts';
import { logConnectionErrors } from '../runtime/connection-errors.ts';

// int8 (count(*), bigserial) as a JS number: every value we keep in one stays far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export type DatabaseConfig = Pick<Config, 'DATABASE_URL' | 'DATABASE_POOL_MAX' | 'DATABASE_SSL'>;

export function createPool(config: DatabaseConfig, options: { logger: Logger; connectionString?: string }): pg.Pool {
  const connectionString = options.connectionString ?? config.DATABASE_URL;
  const pool = new pg.Pool({
    ...(connectionString ? { connectionString } : {}),
    max: config.DATABASE_POOL_MAX,
    ssl: config.DATABASE_SSL === 'off' ? undefined : { rejectUnauthorized: config.DATABASE_SSL === 'verify-full' },
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle connection the server closed (a failover, a restart, a dropped database) is an 'error' on the pool;
  // unheard, it would crash the process. The pool drops that connection and the next query opens a new one.
  logConnectionErrors(pool, options.logger, 'postgresql pool');
  // A checked-out connection has no listener of the pool's: when the server drops it mid-query (a failover, a
  // network cut) pg emits 'error' on it as well as failing the query, and unheard that 'error' would crash the
  // process. The query's caller gets the error (and reports it), so it is not logged twice here; the broken
  // connection is discarded when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/**
 * Every service keeps its tables in a PostgreSQL schema named after it. In production each service also has its
 * own database; the all-in-one process serves all of them from one embedded database, and the schemas keep them
 * apart there the same way.
 */
export function createDatabase<DB>(pool: pg.Pool, schema: string): Kysely<DB> {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }).withSchema(schema);
}

/** Forward-only migrations, applied in name order; the record of what ran lives in the service's own schema. */
export async function migrateToLatest(db: Kysely<unknown>, schema: string, migrations: Record<string, Migration>): Promise<string[]> {
  await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableSchema: schema,
    migrationTableName: 'migrations',
    migrationLockTableName: 'migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(`migration failed in schema ${schema}`);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export async function pingDatabase(db: Kysely<unknown>): Promise<void> {
  await sql`select 1`.execute(db);
}

/** A value for a jsonb column: pg would send a JS array as a PostgreSQL array literal, so JSON text goes instead. */
export const jsonb = <T>(value: T): T => JSON.stringify(value) as unknown as T;

/** PostgreSQL's unique_violation, so stores can turn a race on a unique key into a 409. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
