import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest } from '../../../shared/db/database.ts';
import { fixedFlags } from '../../../shared/testing/flags-client.ts';
import { createTestDatabase, type TestDatabase } from '../../../shared/testing/postgres.ts';
import { createTargetingService } from '../targeting-service.ts';
import { createPostgresTargetingStore, type TargetingDatabase } from '../targeting-store.postgres.ts';
import { targetingMigrations, targetingSchema } from './index.ts';

const segmentCount = 2_000;
const upTo = (last: string) => Object.fromEntries(Object.entries(targetingMigrations).filter(([name]) => name.slice(0, 4) <= last));
const before = upTo('0002');

/**
 * The migration to projects (0003) on segments and an audit trail written before projects: the tables are not
 * rewritten (a constant default: online), and all that was there is the default project's, read as before.
 */
describe('the targeting migration to projects', () => {
  let test: TestDatabase<TargetingDatabase>;
  const table = (name: string) => sql.raw(`"${targetingSchema}"."${name}"`);
  const files = async () =>
    (
      await sql<{ relname: string; file: string }>`select relname, relfilenode::text as file from pg_class
        where oid in (${`"${targetingSchema}"."segments"`}::regclass, ${`"${targetingSchema}"."targeting_audit"`}::regclass)
        order by relname`.execute(test.db)
    ).rows;

  beforeAll(async () => {
    test = await createTestDatabase<TargetingDatabase>(targetingSchema);
    await migrateToLatest(test.db as Kysely<unknown>, targetingSchema, before);
    await sql`
      insert into ${table('segments')} (key, name, description, conditions, included, excluded, version, created_at, updated_at)
      select 'segment-' || lpad(i::text, 5, '0'), 'Segment ' || i, '', '[]'::jsonb, array['user-' || i, 'also-' || i], array['not-' || i], 1, now(), now()
      from generate_series(1, ${segmentCount}) as i`.execute(test.db);
    await sql`
      insert into ${table('targeting_audit')} (entity, entity_key, flag_key, environment, action, actor_id, actor_email, at, before, after, changes)
      values ('segment', 'segment-00001', null, null, 'created', 'u-1', 'ann@example.com', now(), null, '{}'::jsonb, '[]'::jsonb),
             ('rule', '00000000-0000-4000-8000-000000000001', 'checkout', 'production', 'created', 'u-1', 'ann@example.com', now(), null, '{}'::jsonb, '[]'::jsonb)
    `.execute(test.db);
  });
  afterAll(() => test?.drop());

  it('adds the project columns without rewriting the tables; what was there is the default project’s', async () => {
    const beforeFiles = await files();
    expect(await migrateToLatest(test.db as Kysely<unknown>, targetingSchema, upTo('0003'))).toEqual(['0003-projects']);
    expect(await files()).toEqual(beforeFiles);
    // The keys then move to rows of their own (0004), read as they were.
    expect(await migrateToLatest(test.db as Kysely<unknown>, targetingSchema, targetingMigrations)).toEqual(['0004-segment-keys']);

    const { rows } = await sql<{ project: string; segments: string }>`select project, count(*)::text as segments
      from ${table('segments')} group by project`.execute(test.db);
    expect(rows).toEqual([{ project: 'default', segments: String(segmentCount) }]);
    const store = createPostgresTargetingStore(test.db);
    expect(await store.getSegment('segment-00001')).toMatchObject({
      project: 'default',
      included: ['also-1', 'user-1'],
      excluded: ['not-1'],
    });
    expect(await store.listSegments({ project: 'default' })).toHaveLength(segmentCount);
    expect(await store.listSegments({ project: 'alpha' })).toEqual([]);

    const service = createTargetingService({ store, flags: fixedFlags([]) });
    const history = await service.history({ project: 'default', limit: 10 });
    expect(history.items.map((e) => [e.entity, e.project])).toEqual([
      ['rule', 'default'],
      ['segment', 'default'],
    ]);
    expect(await service.projectOfHistory({ flagKey: 'checkout' }, { bearer: 'unused' })).toBe('default');
    expect(await service.projectOfHistory({ segmentKey: 'segment-00001' }, { bearer: 'unused' })).toBe('default');
  });
});
