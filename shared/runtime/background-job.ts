import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../logging/logger.ts';
import { registeredMetric } from '../telemetry/registered-metric.ts';

/** What one round of a job asks for next: to run again at once (work is waiting), or after a given pause. */
export type NextRun = 'at-once' | { inMs: number } | undefined;

export interface BackgroundJobOptions {
  /** The `job` label of its metrics and the `job` field of its logs. */
  name: string;
  logger: Logger;
  /** The service's /metrics registry. */
  metrics: Registry;
  /** One round of work. A throw is logged with its stack and retried after a back-off. */
  run(): Promise<NextRun>;
  /** The pause between rounds when `run` asks for none. */
  intervalMs: number;
  /** The first pause after a failure; it doubles with each failure in a row, up to `maxBackoffMs`. */
  retryMs?: number;
  maxBackoffMs?: number;
}

export interface BackgroundJob {
  /** Ends the pause now; a wake-up during a round makes another round follow it at once. */
  wake(): void;
  /** Waits for the round in hand, then stops. */
  stop(): Promise<void>;
}

/** The metrics every job shares in one registry (a service runs several jobs). */
function jobMetrics(registry: Registry) {
  const labelNames = ['job'] as const;
  return {
    runs: registeredMetric(registry, Counter, {
      name: 'background_job_runs_total',
      help: 'Rounds of a background job, by outcome (ok, failed)',
      labelNames: ['job', 'outcome'] as const,
    }),
    duration: registeredMetric(registry, Histogram, {
      name: 'background_job_duration_seconds',
      help: 'Time one round of a background job took',
      labelNames,
      buckets: [0.001, 0.005, 0.025, 0.1, 0.5, 2.5, 10, 60],
    }),
    lastSuccess: registeredMetric(registry, Gauge, {
      name: 'background_job_last_success_timestamp_seconds',
      help: 'When a round of the job last succeeded (a stuck job stops moving it)',
      labelNames,
    }),
    failingFor: registeredMetric(registry, Gauge, {
      name: 'background_job_consecutive_failures',
      help: 'Failed rounds in a row (0 once a round succeeds)',
      labelNames,
    }),
  };
}

/**
 * The one loop every background task runs in (outbox relays, replica resynchronisation, analytics compaction):
 * rounds one at a time, a pause between them that a wake-up cuts short, failures logged with the error object and
 * retried with a doubling back-off, and the same metrics for all (runs by outcome, duration, last success,
 * failures in a row), so that a stuck or failing loop shows on /metrics and in the logs.
 */
export function startBackgroundJob(options: BackgroundJobOptions): BackgroundJob {
  const { name, logger } = options;
  const retryMs = options.retryMs ?? options.intervalMs;
  const maxBackoffMs = Math.max(options.maxBackoffMs ?? retryMs, retryMs);
  const metrics = jobMetrics(options.metrics);
  metrics.failingFor.set({ job: name }, 0);
  let stopping = false;
  let wokenDuringRound = false;
  let endPause: (() => void) | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        endPause = undefined;
        resolve();
      }
      endPause = done;
    });

  const loop = (async () => {
    let failures = 0;
    while (!stopping) {
      wokenDuringRound = false;
      const stopTimer = metrics.duration.startTimer({ job: name });
      let next: NextRun;
      try {
        next = await options.run();
        metrics.runs.inc({ job: name, outcome: 'ok' });
        metrics.lastSuccess.setToCurrentTime({ job: name });
        if (failures > 0) logger.info({ job: name, failures }, 'background job recovered');
        failures = 0;
        metrics.failingFor.set({ job: name }, 0);
      } catch (error) {
        failures += 1;
        metrics.runs.inc({ job: name, outcome: 'failed' });
        metrics.failingFor.set({ job: name }, failures);
        const retryInMs = Math.min(retryMs * 2 ** (failures - 1), maxBackoffMs);
        logger.warn({ err: error, job: name, failures, retryInMs }, 'background job failed; retrying');
        next = { inMs: retryInMs };
      } finally {
        stopTimer();
      }
      if (stopping) break;
      if (next === 'at-once' || (wokenDuringRound && failures === 0)) continue;
      await pause(next?.inMs ?? options.intervalMs);
    }
  })();

  return {
    wake() {
      wokenDuringRound = true;
      endPause?.();
    },
    async stop() {
      stopping = true;
      endPause?.();
      await loop;
    },
  };
}
