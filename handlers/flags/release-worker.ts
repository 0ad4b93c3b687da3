import type pg from 'pg';
import { Worker } from 'bullmq';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Config } from '../../shared/config/config.ts';
import { createDatabase, createPool, pingDatabase } from '../../shared/db/database.ts';
import { createHttpServer } from '../../shared/http/server.ts';
import type { Logger } from '../../shared/logging/logger.ts';
import { bullConnection } from '../../shared/queue/bullmq.ts';
import { startBackgroundJob } from '../../shared/runtime/background-job.ts';
import { logConnectionErrors } from '../../shared/runtime/connection-errors.ts';
import { listen, type StartedService } from '../../shared/runtime/service.ts';
import type { Kysely } from 'kysely';
import { createFlagService } from './flag-service.ts';
import type { FlagsDatabase } from './flag-store.postgres.ts';
import { createEnvironmentStore, createFlagStore } from './flags-app.ts';
import { flagsSchema } from './migrations/index.ts';
import { createBullAlarmClock, releaseQueue, sweepOnly, type ScheduleAlarm } from './schedules/bullmq-alarm-clock.ts';
import { createScheduleService, type RunOutcome } from './schedules/schedule-service.ts';
import { createReleasePlanService } from './release-plans/release-plan-service.ts';
import { createGuardrailEvaluator, type GuardrailData } from './release-plans/guardrail-evaluator.ts';
import { createDynamoClient } from '../../shared/dynamo/client.ts';
import { createDynamoAnalyticsStore } from '../analytics/analytics-store.dynamo.ts';
import { guardrailDataOf } from './release-plans/analytics-guardrail-data.ts';

/**
 * The release worker: applies scheduled flag changes at their time. BullMQ's delayed jobs are its alarm clock; the
 * records in the flags database are the truth, so it sets the alarms again at start and sweeps for due changes four
 * times a second, in case an alarm was lost (Redis restarted or failed over, a worker died holding it). Each change is
 * applied once, in one transaction with marking it applied, however many workers run.
 */
export async function startReleaseWorker(deps: {
  config: Config;
  logger: Logger;
  port: number;
  pool?: pg.Pool;
  /** What guardrails are judged on; by default the analytics table, read-only. */
  guardrailData?: GuardrailData;
}): Promise<StartedService> {
  const { config } = deps;
  const logger = deps.logger.child({ service: 'release-worker' });
  const pool = deps.pool ?? createPool(config, { logger });
  const db = createDatabase<FlagsDatabase>(pool, flagsSchema);
  const store = createFlagStore(db);
  const flags = createFlagService({ store, environments: createEnvironmentStore(db) });
  const connection = config.REDIS_URL ? bullConnection(config.REDIS_URL, config.REDIS_PASSWORD) : undefined;
  const alarm = connection ? createBullAlarmClock(connection, releaseQueue, logger) : undefined;
  const schedules = createScheduleService({
    store,
    flags,
    alarm: alarm ?? sweepOnly,
    onAlarmFailure: (error, schedule) =>
      logger.warn({ err: error, scheduleId: schedule.id }, 'could not set the alarm of a scheduled change; the sweep will run it'),
  });

  const served = await createHttpServer({
    name: 'release-worker',
    title: 'ToggleMaster release worker',
    logger,
    bodyLimit: 1024,
    trustProxy: false,
    readiness: [{ name: 'postgres', critical: true, check: () => pingDatabase(db as Kysely<unknown>) }],
    routes: () => {},
  });
  const registers = [served.metrics];
  const releasePlans = createReleasePlanService({ store, flags });
  const dynamo = deps.guardrailData ? undefined : createDynamoClient(config);
  const evaluator = createGuardrailEvaluator({
    data: deps.guardrailData ?? guardrailDataOf(createDynamoAnalyticsStore(dynamo!, config.DYNAMODB_TABLE)),
  });
  const looks = new Counter({
    name: 'release_guardrail_looks_total',
    help: 'Looks at running plans’ guardrails, by outcome (holding, rolled-back: a guardrail breached, paused: the split did not match the weights)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const breaches = new Counter({
    name: 'release_guardrail_breaches_total',
    help: 'Release plans rolled back because a guardrail metric breached',
    registers,
  });
  const steps = new Counter({
    name: 'release_plan_steps_total',
    help: 'Release plans moved on by the worker, by outcome (advanced, completed, awaiting-approval, paused: the flag changed outside the plan)',
    labelNames: ['outcome'] as const,
    registers,
  });
  const runs = new Counter({
    name: 'release_schedules_run_total',
    help: 'Scheduled changes run, by outcome',
    labelNames: ['outcome'] as const,
    registers,
  });
  const lateness = new Histogram({
    name: 'release_schedule_lateness_seconds',
    help: 'From a scheduled change’s time to its being applied (the promise: served everywhere within 1 s of it)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 15, 60],
    registers,
  });
  new Gauge({
    name: 'release_schedules_due',
    help: 'Pending scheduled changes whose time has passed (not applied yet: a backlog or a stuck worker)',
    registers,
    async collect() {
      this.set((await schedules.due(new Date(), 10_000).catch(() => [])).length);
    },
  });

  async function runOne(id: string): Promise<RunOutcome> {
    const outcome = await schedules.run(id);
    runs.inc({ outcome });
    logger.debug({ scheduleId: id, outcome }, 'scheduled change run');
    if (outcome === 'applied') {
      const applied = await store.getSchedule(id);
      if (applied?.closedAt) lateness.observe(Math.max(0, applied.closedAt.getTime() - applied.runAt.getTime()) / 1000);
      logger.info({ scheduleId: id, flagKey: applied?.flagKey, environment: applied?.environment }, 'scheduled change applied');
    } else if (outcome === 'conflicted' || outcome === 'failed') {
      const closed = await store.getSchedule(id);
      logger.warn({ scheduleId: id, flagKey: closed?.flagKey, outcome, reason: closed?.outcome }, `scheduled change ${outcome}`);
    }
    return outcome;
  }

  /** An alarm that rings a little early (timers, clocks a few milliseconds apart) waits for the time it was set for. */
  async function onAlarm(id: string): Promise<void> {
    const schedule = await store.getSchedule(id);
    const early = schedule ? schedule.runAt.getTime() - Date.now() : 0;
    if (early > 0 && early < 60_000) await new Promise((resolve) => setTimeout(resolve, early));
    await runOne(id);
  }

  const worker = connection && new Worker<ScheduleAlarm>(releaseQueue, (job) => onAlarm(job.data.id), { connection, concurrency: 4 });
  if (worker) logConnectionErrors(worker, logger, `bullmq worker ${releaseQueue}`);

  // The alarms may have been lost (Redis restarted): set every pending one again (BullMQ ignores a job id it has).
  for (const schedule of await schedules.pending(10_000)) await schedules.arm(schedule);

  const sweep = startBackgroundJob({
    name: 'release-sweep',
    logger,
    metrics: served.metrics,
    // Four times a second: a worker that dies holding an alarm's job leaves it locked for BullMQ's lock time (30 s);
    // the others' sweep applies the change within the second instead (an indexed query of pending, due rows).
    intervalMs: 250,
    retryMs: 1_000,
    maxBackoffMs: 10_000,
    run: async () => {
      const due = await schedules.due(new Date(), 100);
      for (const schedule of due) await runOne(schedule.id);
      const plans = await releasePlans.due(new Date(), 100);
      for (const plan of plans) {
        const outcome = await releasePlans.advance(plan.id);
        steps.inc({ outcome });
        if (outcome !== 'not-due')
          logger.info({ releasePlanId: plan.id, flagKey: plan.flagKey, environment: plan.environment, outcome }, 'release plan moved on');
      }
      return due.length === 100 || plans.length === 100 ? 'at-once' : undefined;
    },
  });

  // Plans are looked at one after another: a look is a few DynamoDB queries, and the always-valid test does not
  // mind when it looks. Without plans that carry guardrails nothing is read.
  const guardrails = startBackgroundJob({
    name: 'release-guardrails',
    logger,
    metrics: served.metrics,
    intervalMs: config.RELEASE_GUARDRAIL_CHECK_MS,
    retryMs: 5_000,
    maxBackoffMs: 60_000,
    run: async () => {
      for (const plan of await releasePlans.guarded(500)) {
        const outcome = await releasePlans.guard(plan.id, evaluator);
        if (outcome === 'not-running') continue;
        looks.inc({ outcome });
        if (outcome === 'holding') continue;
        if (outcome === 'rolled-back') breaches.inc();
        const after = await store.getPlan(plan.id);
        logger.warn(
          { releasePlanId: plan.id, flagKey: plan.flagKey, environment: plan.environment, outcome: after?.outcome },
          `release plan ${outcome} by its guardrails`,
        );
      }
      return undefined;
    },
  });

  return listen('release-worker', served, { config, port: deps.port }, async () => {
    await guardrails.stop();
    await sweep.stop();
    await worker?.close();
    await alarm?.close();
    if (!deps.pool) await pool.end();
    dynamo?.destroy();
  });
}
