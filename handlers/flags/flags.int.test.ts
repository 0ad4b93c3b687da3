import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../shared/testing/postgres.ts';
import { createFlagStore, migrateFlags } from './flags-app.ts';
import { flagsApiContract } from './flags-api.contract.ts';
import { flagsArchiveContract } from './archive.contract.ts';
import type { FlagsDatabase } from './flag-store.postgres.ts';

/** Everything the flags schema holds: a rejected request must leave all of it as it was. */
async function dump(test: TestDatabase<FlagsDatabase>) {
  const [flags, audit, outbox] = await Promise.all([
    test.db.selectFrom('flags').selectAll().orderBy('key').execute(),
    test.db.selectFrom('flag_audit').selectAll().orderBy('id').execute(),
    test.db.selectFrom('outbox').selectAll().orderBy('id').execute(),
  ]);
  return { flags, audit, outbox };
}

flagsApiContract('flags API on PostgreSQL', async () => {
  const test = await createTestDatabase<FlagsDatabase>('flags');
  await migrateFlags(test.db);
  return { store: createFlagStore(test.db), snapshot: () => dump(test), close: () => test.drop() };
});

flagsArchiveContract('archiving flags on PostgreSQL', async () => {
  const test = await createTestDatabase<FlagsDatabase>('flags');
  await migrateFlags(test.db);
  return { store: createFlagStore(test.db), close: () => test.drop() };
});

describe('flags store on PostgreSQL', () => {
  let test: TestDatabase<FlagsDatabase>;
  beforeAll(async () => {
    test = await createTestDatabase<FlagsDatabase>('flags');
    await migrateFlags(test.db);
  });
  afterAll(() => test.drop());

  const actor = { userId: 'u1', email: 'e@example.com' };
  const flag = (version: number) => ({
    key: 'outboxed',
    project: 'default',
    name: 'Outboxed',
    description: '',
    tags: [],
    type: 'boolean' as const,
    variants: [{ key: 'on', value: true }],
    salt: 'abc',
    version,
    clientVisible: false,
    environments: {},
    createdAt: new Date(),
    updatedAt: new Date(),
    archivedAt: null,
    archivedBy: null,
  });
  const write = (version: number) => ({
    audit: [
      {
        flagKey: 'outboxed',
        action: 'updated' as const,
        environment: null,
        actor,
        at: new Date(),
        version,
        before: null,
        after: null,
        changes: [],
      },
    ],
    change: { kind: 'flag' as const, key: 'outboxed' },
  });

  it('commits the outbox message with the change, and neither when the write loses a race', async () => {
    const store = createFlagStore(test.db);
    expect(await store.create(flag(1), write(1))).toBe(true);
    expect(await store.update(flag(2), 1, write(2))).toBe('ok');
    expect(await store.update(flag(3), 1, write(3))).toBe('stale');
    const outbox = await test.db.selectFrom('outbox').select(['topic', 'aggregate_key', 'payload', 'published_at']).orderBy('id').execute();
    const row = { topic: 'flag', aggregate_key: 'flag:outboxed', payload: { kind: 'flag', key: 'outboxed' }, published_at: null };
    expect(outbox).toEqual([row, row]);
    const audit = await test.db.selectFrom('flag_audit').select('version').orderBy('id').execute();
    expect(audit.map((a) => a.version)).toEqual([1, 2]);
  });

  it('rolls the flag back when its audit record cannot be written', async () => {
    const store = createFlagStore(test.db);
    await sql`alter table flags.flag_audit add constraint no_v9 check (version <> 9)`.execute(test.db);
    await expect(store.update(flag(9), 2, write(9))).rejects.toThrow();
    const current = await store.get('outboxed');
    expect(current?.version).toBe(2);
    await sql`alter table flags.flag_audit drop constraint no_v9`.execute(test.db);
  });

  it('runs its migrations idempotently', async () => {
    expect(await migrateFlags(test.db)).toEqual([]);
  });
});
