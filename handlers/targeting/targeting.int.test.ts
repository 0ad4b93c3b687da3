import { createTestDatabase, type TestDatabase } from '../../shared/testing/postgres.ts';
import { createTargetingStore, migrateTargeting } from './targeting-app.ts';
import { targetingApiContract } from './targeting-api.contract.ts';
import type { TargetingDatabase } from './targeting-store.postgres.ts';

async function dump(test: TestDatabase<TargetingDatabase>) {
  const [rules, segments, segmentKeys, audit, outbox] = await Promise.all([
    test.db.selectFrom('rules').selectAll().orderBy('id').execute(),
    test.db.selectFrom('segments').selectAll().orderBy('key').execute(),
    test.db.selectFrom('segment_keys').selectAll().orderBy('segment_key').orderBy('list').orderBy('targeting_key').execute(),
    test.db.selectFrom('targeting_audit').selectAll().orderBy('id').execute(),
    test.db.selectFrom('outbox').selectAll().orderBy('id').execute(),
  ]);
  return { rules, segments, segmentKeys, audit, outbox };
}

targetingApiContract('targeting API on PostgreSQL', async () => {
  const test = await createTestDatabase<TargetingDatabase>('targeting');
  await migrateTargeting(test.db);
  return {
    store: createTargetingStore(test.db),
    snapshot: () => dump(test),
    outbox: async () =>
      (await test.db.selectFrom('outbox').select('payload').orderBy('id').execute()).map(
        (r) => JSON.parse(JSON.stringify(r.payload)) as unknown,
      ),
    close: () => test.drop(),
  };
});
