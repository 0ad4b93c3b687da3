import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  /** A connection string for `pg`, so the services' ordinary PostgreSQL code runs unchanged. */
  url: string;
  stop(): Promise<void>;
}

/**
 * PostgreSQL in this process: PGlite (PostgreSQL compiled to WebAssembly) keeping its files in `dataDir`, served
 * over the wire protocol on a Unix socket so the same `pg` pool and kysely code as in production talk to it.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedPostgres> {
  await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir });
  // A short private directory for the socket (Unix socket paths are limited to ~100 bytes).
  const socketDir = await mkdtemp(join(tmpdir(), 'tm-pg-'));
  const server = new PGLiteSocketServer({ db, path: join(socketDir, '.s.PGSQL.5432'), maxConnections: 16 });
  await server.start();
  return {
    url: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}`,
    async stop() {
      await server.stop();
      await db.close();
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}
