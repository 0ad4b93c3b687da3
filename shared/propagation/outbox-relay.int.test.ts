import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { createLogger } from '../logging/logger.ts';
import { createTestDatabase, type TestDatabase } from '../testing/postgres.ts';
import { Registry } from 'prom-client';
import { addOutboxDeliveryColumns, appendChange, createOutboxTable, type OutboxTable } from './outbox.ts';
import { startOutboxRelay, type RelayOptions } from './outbox-relay.ts';
import { until } from '../testing/until.ts';
import type { EntryChange } from './config-change.ts';

const keyOf = (change: EntryChange) => ('key' in change ? change.key : '');

describe('outbox relay', () => {
  let test: TestDatabase<{ outbox: OutboxTable }>;
  beforeAll(async () => {
    test = await createTestDatabase<{ outbox: OutboxTable }>('relay');
    await sql`create schema relay`.execute(test.db);
    await createOutboxTable(test.db as unknown as Kysely<unknown>);
    await addOutboxDeliveryColumns(test.db as unknown as Kysely<unknown>);
  });
  afterAll(() => test.drop());

  const write = (key: string) => test.db.transaction().execute((tx) => appendChange(tx, { kind: 'flag', key }));
  /** A relay on the test's outbox: a destination that answers, nothing to reseed, unless `options` says otherwise. */
  const relayWith = (options: Partial<RelayOptions> & Pick<RelayOptions, 'lockId'>) =>
    startOutboxRelay({
      pool: test.pool,
      schema: 'relay',
      logger: createLogger('silent', 'test'),
      metrics: new Registry(),
      deliver: async () => {},
      needsReseed: async () => false,
      reseed: async () => {},
      destinationHealthy: async () => {},
      ...options,
    });

  it('delivers a committed row at once, woken by its notification, long before its next poll', async () => {
    const delivered: { change: EntryChange; at: number }[] = [];
    const relay = relayWith({
      lockId: 4242,
      deliver: async (change) => void delivered.push({ change, at: Date.now() }),
      // A poll a minute: only the notification can explain a delivery within the test.
      intervalMs: 60_000,
    });
    try {
      await relay.drained();
      for (const key of ['a', 'b', 'c']) {
        const committed = Date.now();
        await write(key);
        while (!delivered.some((d) => keyOf(d.change) === key)) await new Promise((r) => setTimeout(r, 5));
        expect(delivered.find((d) => keyOf(d.change) === key)!.at - committed).toBeLessThan(1_000);
      }
      expect(delivered.map((d) => d.change)).toEqual(['a', 'b', 'c'].map((key) => ({ kind: 'flag', key })));
      // Marked published once delivered (just after `deliver` returned).
      const unpublished = () => test.db.selectFrom('outbox').select('id').where('published_at', 'is', null).execute();
      for (let i = 0; i < 100 && (await unpublished()).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await unpublished()).toEqual([]);
    } finally {
      await relay.stop();
    }
  });

  it('stops at once, not at the end of its poll interval', async () => {
    const relay = relayWith({ lockId: 4243, intervalMs: 60_000 });
    await relay.drained();
    const started = Date.now();
    await relay.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('sets aside a row that keeps failing while the destination answers, and delivers the changes after it', async () => {
    await relayDrainedOnce();
    const delivered: string[] = [];
    const metrics = new Registry();
    const relay = relayWith({
      lockId: 4244,
      metrics,
      deliver: async (change) => {
        if (keyOf(change) === 'poison') throw new RangeError('Maximum call stack size exceeded');
        delivered.push(keyOf(change));
      },
      intervalMs: 20,
      maxAttempts: 3,
    });
    try {
      await write('poison');
      await write('after-poison');
      await until(() => delivered.includes('after-poison'));
      const [row] = await test.db.selectFrom('outbox').selectAll().where('aggregate_key', '=', 'flag:poison').execute();
      expect(row).toMatchObject({ attempts: 3, published_at: null });
      expect(row!.set_aside_at).toBeInstanceOf(Date);
      expect(row!.last_error).toContain('RangeError: Maximum call stack size exceeded');
      expect(await metrics.getSingleMetricAsString('outbox_rows_set_aside_total')).toContain(
        'outbox_rows_set_aside_total{schema="relay"} 1',
      );
    } finally {
      await relay.stop();
    }
  });

  it('never sets aside a row while the destination is down, however long, and delivers it when it returns', async () => {
    let destinationUp = false;
    const delivered: string[] = [];
    const relay = relayWith({
      lockId: 4245,
      deliver: async (change) => {
        if (!destinationUp) throw new Error('connect ECONNREFUSED');
        delivered.push(keyOf(change));
      },
      destinationHealthy: async () => {
        if (!destinationUp) throw new Error('connect ECONNREFUSED');
      },
      intervalMs: 5,
      maxAttempts: 2,
    });
    try {
      await write('during-outage');
      // Many more failed tries than maxAttempts.
      await new Promise((r) => setTimeout(r, 1_000));
      const [row] = await test.db.selectFrom('outbox').selectAll().where('aggregate_key', '=', 'flag:during-outage').execute();
      expect(row).toMatchObject({ attempts: 0, set_aside_at: null, published_at: null });
      destinationUp = true;
      const back = Date.now();
      await until(() => delivered.includes('during-outage'));
      // The back-off is capped (200 ms), so a returning destination is served well within the second.
      expect(Date.now() - back).toBeLessThan(500);
    } finally {
      await relay.stop();
    }
  });

  it('marks the rows it delivered before an outage ended its round as published: they are not delivered again', async () => {
    await relayDrainedOnce();
    let destinationUp = true;
    let wentAway = false;
    const delivered: string[] = [];
    const relay = relayWith({
      lockId: 4248,
      deliver: async (change) => {
        // The destination goes away between two deliveries of one round (once).
        if (keyOf(change) === 'second' && !wentAway) [wentAway, destinationUp] = [true, false];
        if (!destinationUp) throw new Error('connect ECONNREFUSED');
        delivered.push(keyOf(change));
      },
      destinationHealthy: async () => {
        if (!destinationUp) throw new Error('connect ECONNREFUSED');
      },
      intervalMs: 5,
    });
    try {
      // Both in one transaction, so one round reads them together.
      await test.db.transaction().execute(async (tx) => {
        await appendChange(tx, { kind: 'flag', key: 'first' });
        await appendChange(tx, { kind: 'flag', key: 'second' });
      });
      await until(() => delivered.includes('first'));
      // Several failed rounds for 'second' meanwhile.
      await new Promise((r) => setTimeout(r, 300));
      const rows = await test.db
        .selectFrom('outbox')
        .select(['aggregate_key', 'published_at'])
        .where('aggregate_key', 'in', ['flag:first', 'flag:second'])
        .execute();
      expect(rows.find((r) => r.aggregate_key === 'flag:first')?.published_at).toBeInstanceOf(Date);
      expect(rows.find((r) => r.aggregate_key === 'flag:second')?.published_at).toBeNull();
      expect(delivered).toEqual(['first']);
      destinationUp = true;
      await until(() => delivered.includes('second'));
      expect(delivered).toEqual(['first', 'second']);
    } finally {
      await relay.stop();
    }
  });

  it('delivers waiting changes to one entry once, with the time the oldest of them committed', async () => {
    await relayDrainedOnce();
    let destinationUp = false;
    const delivered: { key: string; committedAt: Date }[] = [];
    const relay = relayWith({
      lockId: 4247,
      deliver: async (change, committedAt) => {
        if (!destinationUp) throw new Error('connect ECONNREFUSED');
        delivered.push({ key: keyOf(change), committedAt });
      },
      destinationHealthy: async () => {
        if (!destinationUp) throw new Error('connect ECONNREFUSED');
      },
      intervalMs: 5,
    });
    try {
      const first = Date.now();
      for (const key of ['burst', 'other', 'burst', 'burst']) await write(key);
      destinationUp = true;
      await until(() => delivered.length >= 2);
      await relayDrainedOnce();
      expect(delivered.map((d) => d.key).sort()).toEqual(['burst', 'other']);
      expect(delivered.find((d) => d.key === 'burst')!.committedAt.getTime()).toBeLessThan(first + 500);
      const left = await test.db
        .selectFrom('outbox')
        .select('id')
        .where('published_at', 'is', null)
        .where('set_aside_at', 'is', null)
        .execute();
      expect(left).toEqual([]);
    } finally {
      await relay.stop();
    }
  });

  it('shows its backlog on /metrics: pending rows go up while the destination is away, then back to zero, the oldest well under 1 s', async () => {
    await relayDrainedOnce();
    const metrics = new Registry();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const relay = relayWith({ lockId: 4248, metrics, deliver: () => held, intervalMs: 10 });
    const gauge = async (name: string) =>
      (await metrics.getSingleMetric(name)!.get()).values.find((v) => v.labels.schema === 'relay')?.value;
    try {
      await relay.drained();
      expect(await gauge('outbox_pending_rows')).toBe(0);
      await write('watched');
      await until(async () => (await gauge('outbox_pending_rows')) === 1);
      expect(await gauge('outbox_oldest_pending_age_seconds')).toBeLessThan(1);
      release();
      await until(async () => (await gauge('outbox_pending_rows')) === 0);
      expect(await gauge('outbox_oldest_pending_age_seconds')).toBe(0);
      const lag = await metrics.getSingleMetricAsString('outbox_publish_lag_seconds');
      expect(lag).toContain('outbox_publish_lag_seconds_count{schema="relay"} 1');
      expect(lag).toContain('outbox_publish_lag_seconds_bucket{le="1",schema="relay"} 1');
      const runs = await metrics.getSingleMetric('background_job_runs_total')!.get();
      expect(runs.values.find((v) => v.labels.job === 'outbox-relay-relay' && v.labels.outcome === 'ok')?.value).toBeGreaterThan(0);
    } finally {
      release();
      await relay.stop();
    }
  });

  /** Rows of earlier tests are published; the tests below start from a drained outbox. */
  async function relayDrainedOnce() {
    const relay = relayWith({ lockId: 4246 });
    await relay.drained();
    await relay.stop();
  }
});
