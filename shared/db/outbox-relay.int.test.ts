import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { createLogger } from '../logging/logger.ts';
import { createTestDatabase, type TestDatabase } from '../testing/postgres.ts';
import { appendOutbox, createOutboxTable, type OutboxTable } from './outbox.ts';
import { startOutboxRelay, type OutboxRow } from './outbox-relay.ts';

describe('outbox relay', () => {
  let test: TestDatabase<{ outbox: OutboxTable }>;
  beforeAll(async () => {
    test = await createTestDatabase<{ outbox: OutboxTable }>('relay');
    await sql`create schema relay`.execute(test.db);
    await createOutboxTable(test.db as unknown as Kysely<unknown>);
  });
  afterAll(() => test.drop());

  const write = (key: string) => test.db.transaction().execute((tx) => appendOutbox(tx, { topic: 'test.changed', aggregateKey: key, payload: { key } }));

  it('delivers a committed row at once, woken by its notification, long before its next poll', async () => {
    const delivered: { row: OutboxRow; at: number }[] = [];
    const relay = startOutboxRelay({
      pool: test.pool, schema: 'relay', lockId: 4242, logger: createLogger('silent', 'test'),
      deliver: async (row) => void delivered.push({ row, at: Date.now() }),
      needsReseed: async () => false, reseed: async () => {},
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
    const relay = startOutboxRelay({ pool: test.pool, schema: 'relay', lockId: 4243, logger: createLogger('silent', 'test'), deliver: async () => {}, needsReseed: async () => false, reseed: async () => {}, intervalMs: 60_000 });
    await relay.drained();
    const started = Date.now();
    await relay.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
