import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Kysely } from 'kysely';
import { createDatabase, createPool } from '../db/database.ts';
import { createLogger } from '../logging/logger.ts';

/** The server the integration tests use; each suite gets a database of its own on it, dropped afterwards. */
export const testServerUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase<DB> {
  url: string;
  pool: pg.Pool;
  db: Kysely<DB>;
  drop(): Promise<void>;
}

export async function createTestDatabase<DB>(schema: string): Promise<TestDatabase<DB>> {
  const name = `tm_test_${schema}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testServerUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(testServerUrl);
  url.pathname = `/${name}`;
  const pool = createPool(
    { DATABASE_POOL_MAX: 5, DATABASE_SSL: 'off', DATABASE_URL: undefined },
    { logger: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent', 'test-database'), connectionString: url.toString() },
  );
  return {
    url: url.toString(),
    pool,
    db: createDatabase<DB>(pool, schema),
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: testServerUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
