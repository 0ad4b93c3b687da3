import type pg from 'pg';
import { sql } from 'kysely';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createDatabase } from '../db/database.ts';
import type { Logger } from '../logging/logger.ts';
import { startBackgroundJob, type NextRun } from '../runtime/background-job.ts';
import { parseConfigChange, type EntryChange } from './config-change.ts';
import { outboxChannel, type OutboxTable } from './outbox.ts';

export interface RelayOptions {
  pool: pg.Pool;
  /** The service's PostgreSQL schema, where its outbox table is. */
  schema: string;
  /** One number per service: only the replica holding this advisory lock relays, so there is a single writer. */
  lockId: number;
  logger: Logger;
  /** Where the relay's metrics go (the service's /metrics registry). */
  metrics: Registry;
  /**
   * Publishes one change; `committedAt` is when the oldest of the waiting rows naming that entry was written. A
   * throw leaves the rows in the outbox to be tried again.
   */
  deliver(change: EntryChange, committedAt: Date): Promise<void>;
  /** Whether the destination lost what was published before (then `reseed` rewrites all of it). */
  needsReseed(): Promise<boolean>;
  reseed(): Promise<void>;
  /** Throws while the destination is unreachable: a failure then is an outage, not the row's fault. */
  destinationHealthy(): Promise<void>;
  /** Failed deliveries (while the destination and the database answer) before a row is set aside. */
  maxAttempts?: number;
  intervalMs?: number;
  /** The longest wait between retries while the destination is down: bounds propagation after it returns. */
  maxBackoffMs?: number;
  /** Published rows are kept this long, for inspection, then deleted. */
  retentionMs?: number;
}

/** Rows read per round; a full batch means more are waiting, and the next round follows at once. */
const batchSize = 100;

interface WaitingRow {
  id: number;
  aggregate_key: string;
  payload: unknown;
  created_at: Date;
  attempts: number;
}

function relayMetrics(
  registry: Registry,
  schema: string,
  readBacklog: () => Promise<{ pending: number; oldest: Date | null; setAside: number } | undefined>,
) {
  const registers = [registry];
  const labelNames = ['schema'] as const;
  const pending = new Gauge({
    name: 'outbox_pending_rows',
    help: 'Outbox rows committed and not yet published (set-aside rows not included)',
    labelNames,
    registers,
    collect: collectBacklog,
  });
  const oldestAge = new Gauge({
    name: 'outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest outbox row not yet published (0 when none waits)',
    labelNames,
    registers,
  });
  const setAsideNow = new Gauge({
    name: 'outbox_set_aside_rows',
    help: 'Outbox rows set aside and not yet cleared by an operator',
    labelNames,
    registers,
  });
  // Read at scrape time, so the figures are the table's, whichever replica holds the relay's lock.
  async function collectBacklog(): Promise<void> {
    const backlog = await readBacklog().catch(() => undefined);
    for (const gauge of [pending, oldestAge, setAsideNow]) gauge.reset();
    if (!backlog) return; // The database does not answer: no figure rather than a stale one.
    pending.set({ schema }, backlog.pending);
    oldestAge.set({ schema }, backlog.oldest ? Math.max(0, (Date.now() - backlog.oldest.getTime()) / 1000) : 0);
    setAsideNow.set({ schema }, backlog.setAside);
  }
  return {
    delivered: new Counter({ name: 'outbox_rows_published_total', help: 'Outbox rows published', labelNames, registers }),
    lag: new Histogram({
      name: 'outbox_publish_lag_seconds',
      help: 'From a change committing to its publication (the promise: well under 1 s)',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
      registers,
    }),
    failures: new Counter({
      name: 'outbox_delivery_failures_total',
      help: 'Outbox rows whose delivery failed while the destination answered',
      labelNames,
      registers,
    }),
    setAside: new Counter({
      name: 'outbox_rows_set_aside_total',
      help: 'Outbox rows that kept failing and were set aside',
      labelNames,
      registers,
    }),
  };
}

/**
 * Drains the transactional outbox in order. The replica that holds the advisory lock delivers every unpublished
 * row, oldest first, and marks it published only after delivery succeeded: a change that committed is delivered
 * at least once, even if the destination or this process was down when it committed. Waiting rows that name the
 * same entry are delivered once (the publisher reads the entry as it is now). It listens for the commit-time
 * notification of a new row (any replica's) and polls every `intervalMs` as well, in case one is missed.
 */
export function startOutboxRelay(options: RelayOptions): { stop(): Promise<void>; drained(): Promise<void> } {
  const { schema, logger } = options;
  const db = createDatabase<{ outbox: OutboxTable }>(options.pool, schema);
  const retentionMs = options.retentionMs ?? 7 * 24 * 3600_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const metrics = relayMetrics(options.metrics, schema, async () => {
    const row = await db
      .selectFrom('outbox')
      .select((eb) => [
        eb.fn.countAll<number>().filterWhere('set_aside_at', 'is', null).as('pending'),
        eb.fn.min<Date | null>('created_at').filterWhere('set_aside_at', 'is', null).as('oldest'),
        eb.fn.countAll<number>().filterWhere('set_aside_at', 'is not', null).as('set_aside'),
      ])
      .where('published_at', 'is', null)
      .executeTakeFirstOrThrow();
    return { pending: row.pending, oldest: row.oldest, setAside: row.set_aside };
  });
  let lockClient: pg.PoolClient | undefined;
  let lastCleanup = 0;
  let idleWaiters: (() => void)[] = [];
  const wakeUp = () => job.wake();

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
        logger.warn({ err: error, schema }, 'outbox relay lost its database connection; competing for the lock again');
      });
      lockClient = client;
      client.on('notification', wakeUp);
      await client.query(`LISTEN ${outboxChannel}`).catch((error: unknown) => {
        logger.warn({ err: error, schema }, 'cannot listen for outbox notifications; polling only');
      });
      return true;
    }
    client.release();
    return false;
  }

  /** One round: reseed if the destination lost everything, then deliver the waiting rows, each entry once. */
  async function turn(): Promise<NextRun> {
    if (!(await holdLock())) return { inMs: 2_000 };
    if (await options.needsReseed()) {
      await options.reseed();
      logger.info({ schema }, 'configuration cache reseeded');
    }
    const rows: WaitingRow[] = await db
      .selectFrom('outbox')
      .select(['id', 'aggregate_key', 'payload', 'created_at', 'attempts'])
      .where('published_at', 'is', null)
      .where('set_aside_at', 'is', null)
      .orderBy('id')
      .limit(batchSize)
      .execute();
    const byEntry = Map.groupBy(rows, (row) => row.aggregate_key);
    // The round's delivered rows are marked published in one statement at its end (also when a failure ends it
    // early): one commit a round instead of one a change, which was most of a change's cost under a burst (the rate
    // rose from ~850 to ~2,000 changes/s). A crash before the mark delivers them again, which a delivery allows (it
    // publishes the entry as it is now).
    const published: number[] = [];
    try {
      for (const group of byEntry.values()) {
        const committedAt = new Date(Math.min(...group.map((row) => row.created_at.getTime())));
        try {
          // The newest row of the entry says what it is now (they all name the same entry; a legacy row may differ).
          await options.deliver(toEntryChange(group.at(-1)!.payload), committedAt);
        } catch (error) {
          await countFailure(group, error);
          continue;
        }
        published.push(...group.map((row) => row.id));
        metrics.delivered.inc({ schema }, group.length);
        metrics.lag.observe({ schema }, (Date.now() - committedAt.getTime()) / 1000);
      }
    } finally {
      if (published.length > 0) await db.updateTable('outbox').set({ published_at: new Date() }).where('id', 'in', published).execute();
    }
    if (Date.now() - lastCleanup > 3600_000) {
      lastCleanup = Date.now();
      await db
        .deleteFrom('outbox')
        .where('published_at', '<', new Date(Date.now() - retentionMs))
        .execute();
    }
    if (rows.length === 0) {
      for (const resolve of idleWaiters) resolve();
      idleWaiters = [];
    }
    return rows.length === batchSize ? 'at-once' : undefined;
  }

  /**
   * A delivery failed. While the destination or the database is down that is an outage: rethrown, and the rows are
   * retried after a back-off, however long the outage lasts. Otherwise the rows themselves are at fault (they
   * cannot be published): they are retried a few times, then set aside so that the changes after them still
   * propagate.
   */
  async function countFailure(group: WaitingRow[], error: unknown): Promise<void> {
    try {
      await options.destinationHealthy();
      await sql`select 1`.execute(db);
    } catch {
      throw error;
    }
    const message = (error instanceof Error ? (error.stack ?? error.message) : String(error)).slice(0, 4_000);
    let setAside = false;
    for (const row of group) {
      metrics.failures.inc({ schema });
      const attempts = row.attempts + 1;
      const giveUp = attempts >= maxAttempts;
      await db
        .updateTable('outbox')
        .set({ attempts, last_error: message, ...(giveUp ? { set_aside_at: new Date() } : {}) })
        .where('id', '=', row.id)
        .execute();
      if (!giveUp) continue;
      setAside = true;
      metrics.setAside.inc({ schema });
      logger.error({ err: error, schema, outboxId: row.id, attempts }, 'outbox row set aside after repeated failures; later changes go on');
    }
    if (!setAside) throw error;
  }

  const job = startBackgroundJob({
    name: `outbox-relay-${schema}`,
    logger,
    metrics: options.metrics,
    run: turn,
    intervalMs: options.intervalMs ?? 100,
    maxBackoffMs: options.maxBackoffMs ?? 200,
  });

  return {
    async stop() {
      await job.stop();
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

/** The change a row carries; a row that holds none cannot be published (the caller counts it as the row's fault). */
function toEntryChange(payload: unknown): EntryChange {
  const change = parseConfigChange(payload);
  if (change.kind === 'reseeded') throw new Error('an outbox row cannot ask for a reseed');
  return change;
}
