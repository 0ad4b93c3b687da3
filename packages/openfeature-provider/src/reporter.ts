import { randomUUID } from 'node:crypto';
import type { EvaluationResult } from '../../../shared/contracts/evaluation-model.ts';
import { backoffMs, describe, OnceLogger, sleep, type SendOutcome } from './http.ts';
import type { DeliveryStats, ProviderLogger } from './types.ts';

/*
 * The analytics side of the provider: every evaluation it makes, and every tracking event, reported to the
 * evaluation service (POST /events/v1/evaluations and /events/v1/track, shared/contracts/sdk-api.ts of ToggleMaster).
 * Recording is synchronous, O(1) and never fails or waits; sending happens in the background.
 */

/** What one request may carry (the contract's limits). */
export const maxEvaluationsPerRequest = 5_000;
export const maxCountsPerRequest = 10_000;
export const maxTrackPerRequest = 1_000;

export interface ReportedEvaluation {
  at: number;
  targetingKey?: string;
  flagKey: string;
  variant?: string;
  reason: string;
  ruleId?: string;
}

export interface ReportedCount {
  minute: number;
  flagKey: string;
  variant?: string;
  reason: string;
  ruleId?: string;
  count: number;
}

export interface TrackEvent {
  name: string;
  flagKey: string;
  variant: string;
  value?: number;
  /** When it happened (ms since the epoch): a batch sent again lands in the same minute, so it counts once. */
  at: number;
}

export interface ReporterOptions {
  /** Sends one report; never throws. */
  send: (path: string, body: unknown, idempotencyKey: string, abort: AbortSignal) => Promise<SendOutcome>;
  logger: ProviderLogger;
  maxBuffered: number;
  maxCountGroups: number;
  maxTrackBuffered: number;
  flushIntervalMs: number;
  minRetryMs: number;
  maxRetryMs: number;
}

interface Batch {
  /** Fixed before the first attempt and kept through every retry: the service counts the batch once. */
  key: string;
  body: unknown;
  /** Events it stands for (a count of n stands for n). */
  size: number;
  /** Takes out the items the service named as wrong; what is left, and how many events it dropped. */
  without(paths: readonly string[]): { rest: Batch | undefined; dropped: number };
}

const idempotencyKey = () => randomUUID().replaceAll('-', '');

/**
 * The items of a refused batch that the service named — `/events/3/flagKey` (its own checks), `body/counts/0/minute`
 * (schema validation) —: their indexes per list.
 */
function namedItems(paths: readonly string[]): Map<string, Set<number>> {
  const named = new Map<string, Set<number>>();
  for (const path of paths) {
    const match = /^(?:body)?\/(\w+)\/(\d+)(?:\/|$)/.exec(path);
    if (!match) continue;
    const indexes = named.get(match[1]!) ?? new Set<number>();
    indexes.add(Number(match[2]));
    named.set(match[1]!, indexes);
  }
  return named;
}

function emptyStats(): DeliveryStats {
  return { recorded: 0, sent: 0, buffered: 0, counted: 0, inFlight: 0, dropped: 0, retries: 0 };
}

/**
 * One kind of report on its way: at most one request at a time, a batch sent again with back-off (and its key)
 * until the service takes it or refuses it, and draining everything (within a deadline) when the provider closes.
 */
class Lane {
  #batch: Batch | undefined;
  #running: Promise<void> | undefined;
  #sleep: { wake: () => void } | undefined;
  #attempt = 0;
  #draining = false;
  readonly #abort = new AbortController();

  readonly name: string;
  readonly #path: string;
  readonly #options: ReporterOptions;
  readonly #log: OnceLogger;
  readonly #stats: DeliveryStats;
  /** The next batch of what is waiting, taken out of the buffers (undefined: nothing waits). */
  readonly #take: () => Batch | undefined;
  /** Whether a full request's worth waits (sent at once, not at the next tick). */
  readonly #full: () => boolean;

  constructor(lane: {
    name: string;
    path: string;
    options: ReporterOptions;
    log: OnceLogger;
    stats: DeliveryStats;
    take: () => Batch | undefined;
    full: () => boolean;
  }) {
    this.name = lane.name;
    this.#path = lane.path;
    this.#options = lane.options;
    this.#log = lane.log;
    this.#stats = lane.stats;
    this.#take = lane.take;
    this.#full = lane.full;
  }

  get inFlight(): number {
    return this.#batch?.size ?? 0;
  }

  kick(): void {
    if (this.#running) return;
    this.#running = this.#run().finally(() => (this.#running = undefined));
  }

  async #run(): Promise<void> {
    for (;;) {
      this.#batch ??= this.#take();
      const batch = this.#batch;
      if (!batch) return;
      const outcome = await this.#options.send(this.#path, batch.body, batch.key, this.#abort.signal);
      if (outcome.kind === 'accepted') {
        this.#stats.sent += batch.size;
        this.#batch = undefined;
        if (this.#attempt > 0 && this.#log.reset(`${this.name}-retry`))
          this.#options.logger.info(`ToggleMaster: ${this.name} are sent again`);
        this.#attempt = 0;
        if (!this.#draining && !this.#full()) return;
        continue;
      }
      if (outcome.kind === 'refused') {
        this.#attempt = 0;
        const { rest, dropped } = outcome.items.length > 0 ? batch.without(outcome.items) : { rest: undefined, dropped: batch.size };
        this.#stats.dropped += dropped;
        // What the service did not name is sent again; it counted nothing of the refused request, so under a new key.
        this.#batch = rest;
        this.#log.error(
          `${this.name}-refused-${outcome.status}`,
          `ToggleMaster: the service refused ${dropped} ${this.name} (${outcome.reason}); they are dropped (counted in stats().${this.name === 'evaluations' ? 'evaluations' : 'track'}.dropped)`,
        );
        continue;
      }
      if (this.#abort.signal.aborted) return;
      this.#attempt += 1;
      this.#stats.retries += 1;
      this.#log.warn(`${this.name}-retry`, `ToggleMaster: ${this.name} not sent (${outcome.reason}); keeping them and trying again`);
      const wait = Math.max(outcome.afterMs ?? 0, backoffMs(this.#attempt, this.#options.minRetryMs, this.#options.maxRetryMs));
      const pause = sleep(wait, this.#abort.signal);
      this.#sleep = pause;
      await pause.done;
      this.#sleep = undefined;
      if (this.#abort.signal.aborted) return;
    }
  }

  /** Sends everything there is before `deadline`; what is left then is counted as dropped (the caller counts the buffers). */
  async drain(deadline: number): Promise<void> {
    const timer = setTimeout(() => this.#abort.abort(), Math.max(0, deadline - Date.now()));
    try {
      this.#draining = true;
      // A retry waiting for its back-off goes now.
      this.#sleep?.wake();
      await this.#running;
      if (!this.#abort.signal.aborted) {
        this.kick();
        await this.#running;
      }
    } finally {
      clearTimeout(timer);
      this.#abort.abort();
    }
    if (this.#batch) {
      this.#stats.dropped += this.#batch.size;
      this.#batch = undefined;
    }
  }
}

/**
 * Evaluations and tracking events waiting to be reported. Raw evaluations are kept up to `maxBuffered`; past it
 * they are counted per (minute, flag, variant, reason, rule) instead — exact, just without the targeting key —
 * up to `maxCountGroups` groups. Nothing is ever lost silently: what cannot be reported is in `stats()` and said
 * once in the log.
 */
export class Reporter {
  readonly #options: ReporterOptions;
  readonly #log: OnceLogger;
  readonly #evaluationStats = emptyStats();
  readonly #trackStats = emptyStats();
  #raw: ReportedEvaluation[] = [];
  /** Counted evaluations of past minutes (and of results the engine makes on the fly, errors), by group. */
  readonly #counts = new Map<string, ReportedCount>();
  /** Counted evaluations of the current minute by the engine's answer (its shared, frozen object): no key to build. */
  readonly #countsNow = new Map<EvaluationResult, number>();
  #countsMinute = 0;
  #counted = 0;
  #track: TrackEvent[] = [];
  readonly #evaluations: Lane;
  readonly #tracking: Lane;
  #timer: NodeJS.Timeout | undefined;
  #soon = false;
  #closed = false;
  /** A request's worth of raw evaluations, or the whole buffer if it is smaller: sent without waiting for the tick. */
  readonly #rawPerRequest: number;

  constructor(options: ReporterOptions) {
    this.#options = options;
    this.#rawPerRequest = Math.max(1, Math.min(maxEvaluationsPerRequest, options.maxBuffered));
    this.#log = new OnceLogger(options.logger);
    const log = this.#log;
    this.#evaluations = new Lane({
      name: 'evaluations',
      path: '/events/v1/evaluations',
      options,
      log,
      stats: this.#evaluationStats,
      take: () => this.#takeEvaluations(),
      full: () => this.#raw.length >= this.#rawPerRequest,
    });
    this.#tracking = new Lane({
      name: 'tracking events',
      path: '/events/v1/track',
      options,
      log,
      stats: this.#trackStats,
      take: () => this.#takeTrack(),
      full: () => this.#track.length >= maxTrackPerRequest,
    });
  }

  start(): void {
    this.#timer = setInterval(() => this.flush(), this.#options.flushIntervalMs);
    this.#timer.unref();
  }

  /** Starts sending whatever waits (without waiting for the timer). */
  flush(): void {
    if (this.#closed) return;
    this.#evaluations.kick();
    this.#tracking.kick();
  }

  /** Records one evaluation the provider made (the engine's answer, and the context's targeting key). */
  recordEvaluation(result: EvaluationResult, targetingKey: unknown): void {
    this.#evaluationStats.recorded += 1;
    const at = Date.now();
    if (this.#raw.length < this.#options.maxBuffered) {
      const evaluation: ReportedEvaluation = { at, flagKey: result.flagKey, reason: result.reason };
      if (typeof targetingKey === 'string' && targetingKey.length > 0 && targetingKey.length <= 256) evaluation.targetingKey = targetingKey;
      if (result.variant !== undefined) evaluation.variant = result.variant;
      if (result.ruleId !== undefined) evaluation.ruleId = result.ruleId;
      this.#raw.push(evaluation);
      if (this.#raw.length === this.#rawPerRequest) this.#sendSoon();
      return;
    }
    this.#count(result, at);
  }

  #count(result: EvaluationResult, at: number): void {
    const minute = at - (at % 60_000);
    if (minute !== this.#countsMinute) {
      this.#foldCountsNow();
      this.#countsMinute = minute;
    }
    if (Object.isFrozen(result)) {
      const known = this.#countsNow.get(result);
      if (known !== undefined) {
        this.#countsNow.set(result, known + 1);
        this.#counted += 1;
        return;
      }
      if (this.#counts.size + this.#countsNow.size < this.#options.maxCountGroups) {
        this.#countsNow.set(result, 1);
        this.#counted += 1;
        return;
      }
    }
    this.#addCount(minute, result.flagKey, result.variant, result.reason, result.ruleId, 1);
  }

  #addCount(minute: number, flagKey: string, variant: string | undefined, reason: string, ruleId: string | undefined, n: number): void {
    const group = `${minute}\u0000${flagKey}\u0000${variant ?? ''}\u0000${reason}\u0000${ruleId ?? ''}`;
    const known = this.#counts.get(group);
    if (known) known.count += n;
    else if (this.#counts.size + this.#countsNow.size < this.#options.maxCountGroups) {
      const count: ReportedCount = { minute, flagKey, reason, count: n };
      if (variant !== undefined) count.variant = variant;
      if (ruleId !== undefined) count.ruleId = ruleId;
      this.#counts.set(group, count);
    } else {
      this.#evaluationStats.dropped += n;
      this.#log.warn(
        'count-groups',
        `ToggleMaster: more than ${this.#options.maxCountGroups} groups of evaluations are waiting to be reported (is the service unreachable?); further ones are dropped (counted in stats().evaluations.dropped)`,
      );
      return;
    }
    this.#counted += n;
  }

  #foldCountsNow(): void {
    if (this.#countsNow.size === 0) return;
    const entries = [...this.#countsNow];
    this.#countsNow.clear();
    for (const [result, n] of entries) {
      this.#counted -= n;
      this.#addCount(this.#countsMinute, result.flagKey, result.variant, result.reason, result.ruleId, n);
    }
  }

  /** Records a tracking event (already attributed to a flag's variant). */
  recordTrack(event: TrackEvent): void {
    this.#trackStats.recorded += 1;
    if (this.#track.length >= this.#options.maxTrackBuffered) {
      this.#trackStats.dropped += 1;
      this.#log.warn(
        'track-full',
        `ToggleMaster: ${this.#options.maxTrackBuffered} tracking events are waiting to be sent (is the service unreachable?); further ones are dropped (counted in stats().track.dropped)`,
      );
      return;
    }
    this.#track.push(event);
    if (this.#track.length === maxTrackPerRequest) this.#sendSoon();
  }

  /** A tracking event that could not be recorded (no flag to attribute it to…): counted, and said once per kind. */
  dropTrack(kind: string, message: string): void {
    this.#trackStats.recorded += 1;
    this.#trackStats.dropped += 1;
    this.#log.warn(`track-${kind}`, `ToggleMaster: ${message} (counted in stats().track.dropped; said once)`);
  }

  #sendSoon(): void {
    if (this.#soon || this.#closed) return;
    this.#soon = true;
    setImmediate(() => {
      this.#soon = false;
      this.flush();
    });
  }

  #takeEvaluations(): Batch | undefined {
    this.#foldCountsNow();
    if (this.#raw.length === 0 && this.#counts.size === 0) return undefined;
    const evaluations = this.#raw.length <= maxEvaluationsPerRequest ? this.#raw : this.#raw.slice(0, maxEvaluationsPerRequest);
    this.#raw = this.#raw.length <= maxEvaluationsPerRequest ? [] : this.#raw.slice(maxEvaluationsPerRequest);
    const counts: ReportedCount[] = [];
    for (const [group, count] of this.#counts) {
      if (counts.length >= maxCountsPerRequest) break;
      counts.push(count);
      this.#counts.delete(group);
    }
    let countedEvents = 0;
    for (const count of counts) countedEvents += count.count;
    this.#counted -= countedEvents;
    return this.#evaluationBatch(idempotencyKey(), evaluations, counts);
  }

  #evaluationBatch(key: string, evaluations: ReportedEvaluation[], counts: ReportedCount[]): Batch {
    let size = evaluations.length;
    for (const count of counts) size += count.count;
    return {
      key,
      body: counts.length > 0 ? { evaluations, counts } : { evaluations },
      size,
      without: (paths) => {
        const named = namedItems(paths);
        const badEvaluations = named.get('evaluations') ?? new Set<number>();
        const badCounts = named.get('counts') ?? new Set<number>();
        // Nothing recognizable named: the whole batch is what was wrong.
        if (badEvaluations.size === 0 && badCounts.size === 0) return { rest: undefined, dropped: size };
        const keptEvaluations = evaluations.filter((_, i) => !badEvaluations.has(i));
        const keptCounts = counts.filter((_, i) => !badCounts.has(i));
        const rest = this.#evaluationBatch(idempotencyKey(), keptEvaluations, keptCounts);
        return { rest: rest.size > 0 ? rest : undefined, dropped: size - rest.size };
      },
    };
  }

  #takeTrack(): Batch | undefined {
    if (this.#track.length === 0) return undefined;
    const events = this.#track.slice(0, maxTrackPerRequest);
    this.#track = this.#track.slice(events.length);
    return this.#trackBatch(idempotencyKey(), events);
  }

  #trackBatch(key: string, events: TrackEvent[]): Batch {
    return {
      key,
      body: { events },
      size: events.length,
      without: (paths) => {
        const bad = namedItems(paths).get('events');
        if (!bad || bad.size === 0) return { rest: undefined, dropped: events.length };
        const kept = events.filter((_, i) => !bad.has(i));
        return { rest: kept.length > 0 ? this.#trackBatch(idempotencyKey(), kept) : undefined, dropped: events.length - kept.length };
      },
    };
  }

  stats(): { evaluations: DeliveryStats; track: DeliveryStats } {
    return {
      evaluations: {
        ...this.#evaluationStats,
        buffered: this.#raw.length,
        counted: this.#counted,
        inFlight: this.#evaluations.inFlight,
      },
      track: { ...this.#trackStats, buffered: this.#track.length, inFlight: this.#tracking.inFlight },
    };
  }

  /** Stops the timer and sends everything within `timeoutMs`; what is left is dropped, counted and logged. */
  async close(timeoutMs: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    const deadline = Date.now() + timeoutMs;
    try {
      await Promise.all([this.#evaluations.drain(deadline), this.#tracking.drain(deadline)]);
    } catch (error) {
      this.#options.logger.error(`ToggleMaster: sending the reports at close failed: ${describe(error)}`);
    }
    this.#foldCountsNow();
    const leftEvaluations = this.#raw.length + this.#counted;
    const leftTrack = this.#track.length;
    this.#evaluationStats.dropped += leftEvaluations;
    this.#trackStats.dropped += leftTrack;
    this.#raw = [];
    this.#counts.clear();
    this.#counted = 0;
    this.#track = [];
    const { evaluations, track } = this.stats();
    if (evaluations.dropped > 0 || track.dropped > 0)
      this.#options.logger.warn(
        `ToggleMaster: ${evaluations.dropped} of ${evaluations.recorded} evaluations and ${track.dropped} of ${track.recorded} tracking events could not be reported` +
          (leftEvaluations + leftTrack > 0
            ? ` (${leftEvaluations} evaluations and ${leftTrack} tracking events were still unsent at close)`
            : ''),
      );
  }
}
