import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlagDocument } from '../../../shared/contracts/flag-model.ts';
import { createDatabase, createPool, migrateToLatest } from '../../../shared/db/database.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import type { StartedService } from '../../../shared/runtime/service.ts';
import { testConfig } from '../../../shared/testing/config.ts';
import { createTestDatabase } from '../../../shared/testing/postgres.ts';
import { startRedisServer } from '../../../shared/testing/redis-server.ts';
import { fixedSdkKeys } from '../../../shared/testing/sdk-keys.ts';
import { until } from '../../../shared/testing/until.ts';
import { migrate, services } from '../../roles.ts';
import { createCaches } from '../../start-role.ts';
import { evaluationOnCache } from '../../testing/evaluation-on-cache.ts';
import { flagsMigrations, flagsSchema } from './index.ts';

const flagCount = 10_000;
const before = Object.fromEntries(Object.entries(flagsMigrations).filter(([name]) => name < '0016'));

/**
 * The migration to projects (0016) on a database of 10,000 flags, while evaluation answers without pause: the
 * deployment's flags were published by the version before projects (documents without `project`); the migration
 * runs, the new flags service starts on it, and no answer given meanwhile is an error or differs from the answers
 * before.
 */
describe('the migration to projects, online', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let database: Awaited<ReturnType<typeof createTestDatabase<unknown>>>;
  let caches: Awaited<ReturnType<typeof createCaches>>;
  let evaluation: Awaited<ReturnType<typeof evaluationOnCache>>;
  let flags: StartedService | undefined;
  let flagsPool: ReturnType<typeof createPool> | undefined;
  const logger = createLogger('silent', 'test');
  const config = () =>
    testConfig({
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `tm-test-${randomBytes(3).toString('hex')}:`,
      DATABASE_URL: database.url,
    });
  let settings: ReturnType<typeof config>;
  const db = () => createDatabase<unknown>(database.pool, flagsSchema);
  const table = (name: string) => sql.raw(`"${flagsSchema}"."${name}"`);

  beforeAll(async () => {
    redis = await startRedisServer();
    database = await createTestDatabase<unknown>('projects_migration');
    settings = config();
    await migrate(database.pool, ['auth', 'targeting']);
    await migrateToLatest(db(), flagsSchema, before);
    // 10,000 flags as the version before projects wrote them: half on in development, a third on in production with
    // a 30/70 rollout, so that answers depend on each flag and each user.
    await sql`
      insert into ${table('flags')} (key, name, description, tags, type, variants, salt, version, client_visible, environments, created_at, updated_at)
      select 'flag-' || lpad(i::text, 5, '0'), 'Flag ' || i, '', '{}', 'boolean',
        '[{"key":"on","value":true},{"key":"off","value":false}]'::jsonb, md5(i::text), 1, false,
        jsonb_build_object(
          'development', jsonb_build_object('enabled', i % 2 = 0, 'offVariant', 'off',
            'defaultServe', jsonb_build_object('variant', 'on'), 'prerequisites', '[]'::jsonb),
          'production', jsonb_build_object('enabled', i % 3 = 0, 'offVariant', 'off',
            'defaultServe', jsonb_build_object('rollout', jsonb_build_array(
              jsonb_build_object('variant', 'on', 'weight', 30), jsonb_build_object('variant', 'off', 'weight', 70))),
            'prerequisites', '[]'::jsonb)),
        now(), now()
      from generate_series(1, ${flagCount}) as i`.execute(db());
    // What that version had published: every flag's document (no `project`), the cache marked complete.
    caches = await createCaches(settings, logger);
    const rows = await sql<FlagDocument & { created_at: Date; updated_at: Date; client_visible: boolean }>`
      select * from ${table('flags')}`.execute(db());
    for (const row of rows.rows) {
      const { created_at, updated_at, client_visible, ...document } = row as unknown as Record<string, unknown>;
      await caches.configCache.putFlag({
        ...(document as unknown as FlagDocument),
        clientVisible: client_visible as boolean,
        createdAt: (created_at as Date).toISOString(),
        updatedAt: (updated_at as Date).toISOString(),
      });
    }
    evaluation = await evaluationOnCache(caches.configCache, { sdkKeys: fixedSdkKeys({ 'prod-key': 'production' }) });
  }, 180_000);
  afterAll(async () => {
    await flags?.stop();
    await flagsPool?.end();
    await evaluation?.close();
    await caches?.close();
    await database?.drop();
    await redis?.stop();
  });

  const users = ['ann', 'bob', 'cat', 'dan'];
  /** Every flag's value for one user, from the OFREP bulk evaluation: status and answers. */
  async function answersFor(user: string): Promise<{ status: number; values: Record<string, unknown> }> {
    const response = await evaluation.app.inject({
      method: 'POST',
      url: '/ofrep/v1/evaluate/flags',
      headers: { 'x-api-key': 'prod-key' },
      payload: { context: { targetingKey: user } },
    });
    if (response.statusCode !== 200) return { status: response.statusCode, values: {} };
    const flagsAnswered = response.json<{ flags: { key: string; value: unknown }[] }>().flags;
    return { status: 200, values: Object.fromEntries(flagsAnswered.map((f) => [f.key, f.value])) };
  }

  it('keeps every answer while the migration runs and the new version starts', async () => {
    const baseline = new Map<string, Record<string, unknown>>();
    for (const user of users) {
      const { status, values } = await answersFor(user);
      expect(status).toBe(200);
      expect(Object.keys(values)).toHaveLength(flagCount);
      baseline.set(user, values);
    }
    const { rows: beforeFile } = await sql<{ file: string }>`select relfilenode::text as file from pg_class
      where oid = ${`"${flagsSchema}"."flags"`}::regclass`.execute(db());

    // Evaluation answers without pause from here to the end, each answer compared with the baseline.
    let evaluating = true;
    const differences: string[] = [];
    let answered = 0;
    const loop = (async () => {
      for (let i = 0; evaluating; i++) {
        const user = users[i % users.length]!;
        const { status, values } = await answersFor(user);
        answered++;
        if (status !== 200) differences.push(`answer ${i} for ${user}: status ${status}`);
        else
          for (const [key, value] of Object.entries(baseline.get(user)!))
            if (values[key] !== value) differences.push(`answer ${i} for ${user}: ${key} was ${String(value)}, now ${String(values[key])}`);
      }
    })();

    try {
      expect(await migrateToLatest(db(), flagsSchema, flagsMigrations)).toEqual(['0016-projects']);
      // The new version of the flags service starts on the migrated database (documents published before projects
      // stay as they are: without `project`, they are the default project's).
      flagsPool = createPool(settings, { logger, connectionString: database.url });
      flags = await services.flags!.start({
        config: settings,
        logger,
        cache: caches.cache,
        configCache: caches.configCache,
        port: 0,
        pool: flagsPool,
      });
      const answeredByThen = answered;
      await until(() => answered > answeredByThen + users.length, { limitMs: 30_000 });
    } finally {
      evaluating = false;
      await loop;
    }

    expect(differences.slice(0, 10)).toEqual([]);
    expect(answered).toBeGreaterThan(users.length);
    // Online: the table was not rewritten (the same file), every flag is in the default project.
    const { rows: afterFile } = await sql<{ file: string }>`select relfilenode::text as file from pg_class
      where oid = ${`"${flagsSchema}"."flags"`}::regclass`.execute(db());
    expect(afterFile).toEqual(beforeFile);
    const { rows: projects } = await sql<{ project: string; flags: string }>`select project, count(*)::text as flags
      from ${table('flags')} group by project`.execute(db());
    expect(projects).toEqual([{ project: 'default', flags: String(flagCount) }]);
    // And a project that does not exist is refused from now on.
    await expect(sql`update ${table('flags')} set project = 'nowhere' where key = 'flag-00001'`.execute(db())).rejects.toThrow(
      /foreign key/,
    );
  }, 240_000);
});
