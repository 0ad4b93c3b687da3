import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedService } from '../../../shared/runtime/service.ts';
import { createDatabase, createPool } from '../../../shared/db/database.ts';
import { createLogger } from '../../../shared/logging/logger.ts';
import { startRedisServer } from '../../../shared/testing/redis-server.ts';
import { until } from '../../../shared/testing/until.ts';
import { startPlatform, type Platform } from '../../testing/platform.ts';
import { createFlagService } from '../flag-service.ts';
import type { FlagsDatabase } from '../flag-store.postgres.ts';
import { createFlagStore } from '../flags-app.ts';
import { flagsSchema } from '../migrations/index.ts';
import { sweepOnly } from './bullmq-alarm-clock.ts';
import { createScheduleService } from './schedule-service.ts';

/**
 * Scheduled changes on real servers: the flags API records them, BullMQ's delayed jobs wake the release workers
 * (two of them), the change travels the outbox, Redis and every evaluation instance like a person's.
 */
describe('scheduled changes, applied by the release workers', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let platform: Platform;
  let workers: StartedService[];

  const served = async (instance: StartedService, key: string) => {
    const response = await fetch(`${instance.url}/ofrep/v1/evaluate/flags/${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': platform.sdkKey },
      body: JSON.stringify({ context: { targetingKey: 'user-1' } }),
    });
    return ((await response.json()) as { value?: unknown }).value;
  };
  const newFlag = async (key: string) => {
    const created = await platform.call('POST', `${platform.urls.flags}/flags`, {
      key,
      name: key,
      type: 'boolean',
      environments: { production: { enabled: false } },
    });
    expect(created.status).toBe(201);
    await until(async () => (await Promise.all(platform.evaluations.map((e) => served(e, key)))).every((v) => v === false));
  };
  const schedule = async (key: string, runAt: Date) => {
    const created = await platform.call<{ id: string }>('POST', `${platform.urls.flags}/flags/${key}/environments/production/schedules`, {
      runAt: runAt.toISOString(),
      change: { enabled: true },
    });
    expect(created.status).toBe(201);
    return created.body.id;
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    platform = await startPlatform({ redisUrl: redis.url, evaluationInstances: 2 });
    workers = [await platform.startWorker('release-worker'), await platform.startWorker('release-worker')];
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  it('serves a change scheduled 2 s ahead on every evaluation instance within 1 s of its time, applied once though a worker stops at that moment', async () => {
    await newFlag('launch-day');
    const runAt = new Date(Date.now() + 2_000);
    const id = await schedule('launch-day', runAt);
    await new Promise((r) => setTimeout(r, runAt.getTime() - Date.now()));
    const stopping = platform.stopService(workers[0]!);
    await until(async () => (await Promise.all(platform.evaluations.map((e) => served(e, 'launch-day')))).every((v) => v === true), {
      limitMs: 3_000,
      everyMs: 10,
    });
    expect(Date.now() - runAt.getTime()).toBeLessThan(1_000);
    await stopping;
    const history = await platform.call<{ items: { cause?: { scheduleId: string } | null }[] }>(
      'GET',
      `${platform.urls.flags}/flags/launch-day/history`,
    );
    expect(history.body.items.filter((entry) => entry.cause?.scheduleId === id)).toHaveLength(1);
    const listed = await platform.call<{ items: { id: string; status: string }[] }>(
      'GET',
      `${platform.urls.flags}/flags/launch-day/schedules`,
    );
    expect(listed.body.items).toMatchObject([{ id, status: 'applied' }]);
    const events = await platform.call<{ items: { type: string; scheduleId: string }[] }>(
      'GET',
      `${platform.urls.flags}/flags/launch-day/release-events`,
    );
    expect(events.body.items).toMatchObject([{ type: 'schedule.applied', scheduleId: id }]);
  });

  it('applies a schedule once however many runs race for it: the claim and the change commit together', async () => {
    // The platform's workers step aside: the ten runs below are the only ones.
    await platform.stopService(workers[1]!);
    await newFlag('raced');
    const id = await schedule('raced', new Date(Date.now() + 300));
    // Ten runs of the release worker's code at the due time, each with its own pool: as many workers as that.
    const logger = createLogger('silent', 'test');
    const runners = Array.from({ length: 10 }, () => {
      const pool = createPool(
        { DATABASE_POOL_MAX: 2, DATABASE_SSL: 'off', DATABASE_URL: undefined },
        { logger, connectionString: platform.databaseUrl },
      );
      const store = createFlagStore(createDatabase<FlagsDatabase>(pool, flagsSchema));
      const flags = createFlagService({ store, environments: platform.config.ENVIRONMENTS });
      return { pool, schedules: createScheduleService({ store, flags, alarm: sweepOnly, onAlarmFailure: () => {} }) };
    });
    try {
      await new Promise((r) => setTimeout(r, 350));
      const outcomes = await Promise.all(runners.map((r) => r.schedules.run(id)));
      expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
      expect(outcomes.filter((o) => o !== 'applied').every((o) => o === 'not-pending')).toBe(true);
    } finally {
      await Promise.all(runners.map((r) => r.pool.end()));
    }
    const history = await platform.call<{ items: { cause?: { scheduleId: string } | null }[] }>(
      'GET',
      `${platform.urls.flags}/flags/raced/history`,
    );
    expect(history.body.items.filter((entry) => entry.cause?.scheduleId === id)).toHaveLength(1);
    // One event too: it is written in the transaction that applied the change, so the losers wrote none.
    const events = await platform.call<{ items: unknown[] }>('GET', `${platform.urls.flags}/flags/raced/release-events`);
    expect(events.body.items).toHaveLength(1);
  });
});
