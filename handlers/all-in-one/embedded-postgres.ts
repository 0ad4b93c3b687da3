import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketHandler, type PGLiteSocketHandlerOptions } from '@electric-sql/pglite-socket';
import { PGliteSessionQueue } from './pglite-session-queue.ts';

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
  // pglite-socket's connection handler (the wire protocol) over a queue that keeps each batch whole (see there).
  const queryQueue = new PGliteSessionQueue(db) as unknown as PGLiteSocketHandlerOptions['queryQueue'];
  const handlers = new Set<PGLiteSocketHandler>();
  const server = createServer((socket) => {
    const handler = new PGLiteSocketHandler({ queryQueue, closeOnDetach: true });
    handlers.add(handler);
    handler.addEventListener('close', () => handlers.delete(handler));
    handler.addEventListener('error', () => handlers.delete(handler));
    void handler.attach(socket);
  });
  server.maxConnections = 32;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(join(socketDir, '.s.PGSQL.5432'), () => resolve());
  });
  return {
    url: `postgres://postgres@localhost/postgres?host=${encodeURIComponent(socketDir)}`,
    async stop() {
      await Promise.all([...handlers].map((handler) => handler.detach(true)));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}
