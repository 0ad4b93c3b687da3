import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from '../../../shared/logging/logger.ts';
import { logConnectionErrors } from '../../../shared/runtime/connection-errors.ts';
import platformNames from '../../../shared/contracts/platform-names.json' with { type: 'json' };
import type { AlarmClock } from './schedule-service.ts';

/** The BullMQ queue of the alarms (Redis keys bull:<queue>:*; KEDA scales the release workers on it). */
export const releaseQueue = platformNames.queues.releaseSchedules;

/** The data of an alarm: which schedule to run. */
export interface ScheduleAlarm {
  id: string;
}

/**
 * Alarms as BullMQ delayed jobs: the job is due at the schedule's time, and the release workers take it from the
 * queue. One job per schedule and time (a moved schedule gets a new one; the old one finds it not due).
 */
export function createBullAlarmClock(
  connection: ConnectionOptions,
  queueName: string,
  logger: Logger,
): AlarmClock & { close(): Promise<void> } {
  const queue = new Queue<ScheduleAlarm>(queueName, {
    connection,
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: 1_000, removeOnFail: 1_000 },
  });
  logConnectionErrors(queue, logger, `bullmq alarms ${queueName}`);
  return {
    async set({ id, runAt }) {
      await queue.add('due', { id }, { jobId: `${id}-${runAt.getTime()}`, delay: Math.max(0, runAt.getTime() - Date.now()) });
    },
    close: () => queue.close(),
  };
}

/** Without Redis (one process, the all-in-one): no alarm; the worker's sweep, four times a second, finds what is due. */
export const sweepOnly: AlarmClock = { set: async () => {} };
