import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { createLogger } from '../logging/logger.ts';
import { createTestDatabase, type TestDatabase } from '../testing/postgres.ts';
import { Registry } from 'prom-client';
import { addOutboxDeliveryColumns, appendOutbox, createOutboxTable, type OutboxTable } from './outbox.ts';
import { startOutboxRelay, type OutboxRow } from './outbox-relay.ts';
import { until } from '../testing/until.ts';

describe('outbox relay', () => {
  let test: TestDatabase<{ outbox: OutboxTable }>;
  beforeAll(async () => {
    test = await createTestDatabase<{ outbox: OutboxTable }>('relay');
    await sql`create schema relay`.execute(test.db);
    await createOutboxTable(test.db as unknown as Kysely<unknown>);
    await addOutboxDeliveryColumns(test.db as unknown as Kysely<unknown>);
  });
  afterAll(() => test.drop());

  const write = (key: string) => test.db.transaction().execute((tx) => appendOutbox(tx, { topic: 'test.changed', aggregateKey: key, payload: { key } }));

  it('delivers a committed row at once, woken by its notification, long before its next poll', async () => {
    const delivered: { row: OutboxRow; at: number }[] = [];
    const relay = startOutboxRelay({
      pool: test.pool, schema: 'relay', lockId: 4242, logger: createLogger('silent', 'test'),
      deliver: async (row) => void delivered.push({ row, at: Date.now() }),
      needsReseed: async () => false, reseed: async () => {}, destinationHealthy: async () => {},
      // A poll a minute: only the notification can explain a delivery within the test.
      intervalMs: 60_000,
    });
    try {
      await relay.drained();
      for (const key of ['a', 'b', 'c']) {
        const committed = Date.now();
        await write(key);
        while (!delivered.some((d) => d.row.aggregateKey === key)) await new Promise((r) => setTimeout(r, 5));
        expect(delivered.find((d) => d.row.aggregateKey === key)!.at - committed).toBeLessThan(1_000);
      }
      expect(delivered.map((d) => d.row.payload)).toEqual([{ key: 'a' }, { key: 'b' }, { key: 'c' }]);
      // Marked published once delivered (just after `deliver` returned).
      const unpublished = () => test.db.selectFrom('outbox').select('id').where('published_at', 'is', null).execute();
      for (let i = 0; i < 100 && (await unpublished()).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(await unpublished()).toEqual([]);
    } finally {
      await relay.stop();
    }
  });

  it('stops at once, not at the end of its poll interval', async () => {
    const relay = startOutboxRelay({ pool: test.pool, schema: 'relay', lockId: 4243, logger: createLogger('silent', 'test'), deliver: async () => {}, needsReseed: async () => false, reseed: async () => {}, destinationHealthy: async () => {}, intervalMs: 60_000 });
    await relay.drained();
    const started = Date.now();
    await relay.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });


  it('sets aside a row that keeps failing while the destination answers, and delivers the changes after it', async () => {
    await relayDrainedOnce();
    const delivered: string[] = [];
    const metrics = new Registry();
    const relay = startOutboxRelay({
      pool: test.pool, schema: 'relay', lockId: 4244, logger: createLogger('silent', 'test'), metrics,
      deliver: async (row) => {
        if (row.aggregateKey === 'poison') throw new RangeError('Maximum call stack size exceeded');
        delivered.push(row.aggregateKey);
      },
      needsReseed: async () => false, reseed: async () => {}, destinationHealthy: async () => {},
      intervalMs: 20, maxAttempts: 3,
    });
    try {
      await write('poison');
      await write('after-poison');
      await until(() => delivered.includes('after-poison'));
      const [row] = await test.db.selectFrom('outbox').selectAll().where('aggregate_key', '=', 'poison').execute();
      expect(row).toMatchObject({ attempts: 3, published_at: null });
      expect(row!.set_aside_at).toBeInstanceOf(Date);
      expect(row!.last_error).toContain('RangeError: Maximum call stack size exceeded');
      expect(await metrics.getSingleMetricAsString('outbox_rows_set_aside_total')).toContain('outbox_rows_set_aside_total{schema="relay"} 1');
    } finally {
      await relay.stop();
    }
  });

  it('never sets aside a row while the destination is down, however long, and delivers it when it returns', async () => {
    let destinationUp = false;
    const delivered: string[] = [];
    const relay = startOutboxRelay({
      pool: test.pool, schema: 'relay', lockId: 4245, logger: createLogger('silent', 'test'),
      deliver: async (row) => {
        if (!destinationUp) throw new Error('connect ECONNREFUSED');
        delivered.push(row.aggregateKey);
      },
      needsReseed: async () => false, reseed: async () => {},
      destinationHealthy: async () => {
        if (!destinationUp) throw new Error('connect ECONNREFUSED');
      },
      intervalMs: 5, maxAttempts: 2,
    });
    try {
      await write('during-outage');
      // Many more failed tries than maxAttempts.
      await new Promise((r) => setTimeout(r, 1_000));
      const [row] = await test.db.selectFrom('outbox').selectAll().where('aggregate_key', '=', 'during-outage').execute();
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

  /** Rows of earlier tests are published; the tests below start from a drained outbox. */
  async function relayDrainedOnce() {
    const relay = startOutboxRelay({ pool: test.pool, schema: 'relay', lockId: 4246, logger: createLogger('silent', 'test'), deliver: async () => {}, needsReseed: async () => false, reseed: async () => {}, destinationHealthy: async () => {} });
    await relay.drained();
    await relay.stop();
  }
});
