import type pg from 'pg';
import { sql } from 'kysely';
import { Counter, type Registry } from 'prom-client';
import type { Logger } from '../logging/logger.ts';
import { createDatabase } from './database.ts';
import { outboxChannel, type OutboxTable } from './outbox.ts';

export interface OutboxRow {
  id: number;
  topic: string;
  aggregateKey: string;
  payload: Record<string, unknown>;
}

export interface RelayOptions {
  pool: pg.Pool;
  /** The service's PostgreSQL schema, where its outbox table is. */
  schema: string;
  /** One number per service: only the replica holding this advisory lock relays, so there is a single writer. */
  lockId: number;
  logger: Logger;
  /** Publishes one message; a throw leaves it in the outbox to be tried again. */
  deliver(row: OutboxRow): Promise<void>;
  /** Whether the destination lost what was published before (then `reseed` rewrites all of it). */
  needsReseed(): Promise<boolean>;
  reseed(): Promise<void>;
  /** Throws while the destination is unreachable: a failure then is an outage, not the row's fault. */
  destinationHealthy(): Promise<void>;
  /** Failed deliveries (while the destination and the database answer) before a row is set aside. */
  maxAttempts?: number;
  /** Where the relay's metrics go (the service's /metrics registry). */
  metrics?: Registry;
  intervalMs?: number;
  /** The longest wait between retries while the destination is down: bounds propagation after it returns. */
  maxBackoffMs?: number;
  /** Published rows are kept this long, for inspection, then deleted. */
  retentionMs?: number;
}

/**
 * Drains the transactional outbox in order. The replica that holds the advisory lock delivers every unpublished
 * row, oldest first, and marks it published only after delivery succeeded: a change that committed is delivered
 * at least once, even if the destination or this process was down when it committed. It listens for the
 * commit-time notification of a new row (any replica's) and polls every `intervalMs` as well, in case one is missed.
 */
export function startOutboxRelay(options: RelayOptions): { stop(): Promise<void>; drained(): Promise<void> } {
  const db = createDatabase<{ outbox: OutboxTable }>(options.pool, options.schema);
  const interval = options.intervalMs ?? 100;
  const retentionMs = options.retentionMs ?? 7 * 24 * 3600_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const maxBackoffMs = options.maxBackoffMs ?? 200;
  const registers = options.metrics ? [options.metrics] : [];
  const failures = new Counter({ name: 'outbox_delivery_failures_total', help: 'Outbox rows whose delivery failed while the destination answered', labelNames: ['schema'] as const, registers });
  const setAside = new Counter({ name: 'outbox_rows_set_aside_total', help: 'Outbox rows that kept failing and were set aside', labelNames: ['schema'] as const, registers });
  let stopping = false;
  let lockClient: pg.PoolClient | undefined;
  let lastCleanup = 0;
  let idleWaiters: (() => void)[] = [];
  // A notification (or stop) ends the current wait early; one that arrives during a turn makes another turn follow
  // at once, since the turn may have read the outbox before that row committed.
  let wake: (() => void) | undefined;
  let notified = false;
  const wakeUp = () => {
    notified = true;
    wake?.();
  };
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function holdLock(): Promise<boolean> {
    if (lockClient) return true;
    const client = await options.pool.connect();
    const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [options.lockId]);
    if (rows[0]?.locked) {
      // A dropped connection releases the lock: hand the broken client back to the pool (which discards it; kept,
      // it would hold a pool slot for good and make the pool's end wait forever) and compete again next turn.
      client.on('error', (error: Error) => {
        if (lockClient !== client) return;
        lockClient = undefined;
        client.release(error);
        options.logger.warn({ err: error, schema: options.schema }, 'outbox relay lost its database connection; competing for the lock again');
      });
      lockClient = client;
      client.on('notification', wakeUp);
      await client.query(`LISTEN ${outboxChannel}`).catch((error: unknown) => {
        options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'cannot listen for outbox notifications; polling only');
      });
      return true;
    }
    client.release();
    return false;
  }

  async function turn(): Promise<number> {
    if (!(await holdLock())) return -1;
    if (await options.needsReseed()) {
      await options.reseed();
      options.logger.info({ schema: options.schema }, 'configuration cache reseeded');
    }
    const rows = await db
      .selectFrom('outbox')
      .select(['id', 'topic', 'aggregate_key', 'payload', 'attempts'])
      .where('published_at', 'is', null)
      .where('set_aside_at', 'is', null)
      .orderBy('id')
      .limit(100)
      .execute();
    for (const row of rows) {
      try {
        await options.deliver({ id: row.id, topic: row.topic, aggregateKey: row.aggregate_key, payload: row.payload as unknown as Record<string, unknown> });
      } catch (error) {
        await countFailure(row, error);
        continue;
      }
      await db.updateTable('outbox').set({ published_at: new Date() }).where('id', '=', row.id).execute();
    }
    if (Date.now() - lastCleanup > 3600_000) {
      lastCleanup = Date.now();
      await db.deleteFrom('outbox').where('published_at', '<', new Date(Date.now() - retentionMs)).execute();
    }
    return rows.length;
  }

  /**
   * A delivery failed. While the destination or the database is down that is an outage: rethrown, and the row is
   * retried after a back-off, however long the outage lasts. Otherwise the row itself is at fault (it cannot be
   * published): it is retried a few times, then set aside so that the changes after it still propagate.
   */
  async function countFailure(row: { id: number; attempts: number }, error: unknown): Promise<void> {
    try {
      await options.destinationHealthy();
      await sql`select 1`.execute(db);
    } catch {
      throw error;
    }
    failures.inc({ schema: options.schema });
    const attempts = row.attempts + 1;
    const giveUp = attempts >= maxAttempts;
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    await db
      .updateTable('outbox')
      .set({ attempts, last_error: message.slice(0, 4_000), ...(giveUp ? { set_aside_at: new Date() } : {}) })
      .where('id', '=', row.id)
      .execute();
    if (!giveUp) throw error;
    setAside.inc({ schema: options.schema });
    options.logger.error({ err: error, schema: options.schema, outboxId: row.id, attempts }, 'outbox row set aside after repeated failures; later changes go on');
  }

  const loop = (async () => {
    let backoff = interval;
    while (!stopping) {
      try {
        notified = false;
        const delivered = await turn();
        backoff = interval;
        if (delivered === 0) {
          for (const resolve of idleWaiters) resolve();
          idleWaiters = [];
        }
        if (delivered !== 100 && !notified) await sleep(delivered === -1 ? 2_000 : interval);
      } catch (error) {
        options.logger.warn({ err: error, schema: options.schema, retryInMs: backoff }, 'outbox relay failed; retrying');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoffMs);
      }
    }
  })();

  return {
    async stop() {
      stopping = true;
      wakeUp();
      await loop;
      if (lockClient) {
        lockClient.off('notification', wakeUp);
        await lockClient.query(`UNLISTEN ${outboxChannel}`).catch(() => undefined);
        await lockClient.query('select pg_advisory_unlock($1)', [options.lockId]).catch(() => undefined);
        lockClient.release();
        lockClient = undefined;
      }
    },
    /** Resolves once the relay has found the outbox empty (tests and the all-in-one seeding wait on it). */
    drained: () => new Promise<void>((resolve) => idleWaiters.push(resolve)),
  };
}
