import { readFile } from 'node:fs/promises';
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  StandardResolutionReasons,
  type EvaluationContext,
  type Hook,
  type JsonValue,
  type Logger,
  type Provider,
  type ResolutionDetails,
  type TrackingEventDetails,
} from '@openfeature/server-sdk';
import type { EvaluationContext as EngineContext, EvaluationResult } from '../../../shared/contracts/evaluation-model.ts';
import type { FlagType } from '../../../shared/contracts/flag-model.ts';
import { evaluateFlag } from '../../../shared/engine/index.ts';
import { changedFlags, compileDocument, parseDocument, type Configuration } from './configuration.ts';
import { OnceLogger, postReport, type Service } from './http.ts';
import { Reporter } from './reporter.ts';
import { ConfigurationSync } from './sync.ts';
import type { ConfigurationDocument, ProviderLogger, ProviderStats, ToggleMasterProviderOptions } from './types.ts';

const defaults = {
  pollIntervalMs: 30_000,
  staleAfterMs: 5 * 60_000,
  minRetryMs: 1_000,
  maxRetryMs: 30_000,
  streamIdleTimeoutMs: 60_000,
  requestTimeoutMs: 10_000,
  initTimeoutMs: 30_000,
  maxBuffered: 10_000,
  maxCountGroups: 100_000,
  maxTrackBuffered: 10_000,
  flushIntervalMs: 1_000,
  closeTimeoutMs: 5_000,
};

/** What the engine calls each OpenFeature type. */
const engineType = { boolean: 'boolean', string: 'string', number: 'number', object: 'json' } as const satisfies Record<string, FlagType>;
type ResolvedType = keyof typeof engineType;

/** A flag key the service would take (the flags API's: lower-case slug, at most 100 characters). */
const flagKeyPattern = /^[a-z0-9]+(?:[-_.][a-z0-9]+)*$/;
const metricNamePattern = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
const maxMetricValue = 1e12;

/**
 * The context as the evaluation service would read it after JSON: a Date is its ISO string, a number that is not
 * finite is null. The same object when there is nothing to change (the usual case: no copy).
 */
function asJson(value: unknown, depth = 0): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'object' || value === null || depth > 32) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const read = asJson(item, depth + 1);
      if (read !== item) (copy ??= [...(value as unknown[])])[i] = read;
    });
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    const read = asJson(item, depth + 1);
    if (read !== item) (copy ??= { ...(value as Record<string, unknown>) })[key] = read;
  }
  return copy ?? value;
}

const notReady = <T>(defaultValue: T): ResolutionDetails<T> => ({
  value: defaultValue,
  reason: StandardResolutionReasons.ERROR,
  errorCode: ErrorCode.PROVIDER_NOT_READY,
  errorMessage: 'ToggleMaster: no configuration yet',
});

/**
 * An OpenFeature server provider that evaluates ToggleMaster flags in the application's process, with the
 * evaluation service's own engine, from a copy of the environment's configuration that it keeps in sync (the
 * change stream, else polling). Every evaluation is reported to the service's analytics; `track()` sends metric
 * events for release guardrails. See the package's README.
 */
export class ToggleMasterProvider implements Provider {
  readonly metadata = { name: 'ToggleMaster in-process' } as const;
  readonly runsOn = 'server' as const;
  readonly hooks: Hook[] = [];
  readonly events = new OpenFeatureEventEmitter();

  readonly #options: ToggleMasterProviderOptions;
  readonly #service: Service | undefined;
  #log: OnceLogger;
  #reporter: Reporter | undefined;
  #sync: ConfigurationSync | undefined;
  #configuration: Configuration | undefined;
  #lastSyncAt: number | undefined;
  #stale = false;
  #staleTimer: NodeJS.Timeout | undefined;
  /** initialize() failed (no document in time): a document arriving later makes the provider READY. */
  #initFailed = false;
  #firstDocument: (() => void) | undefined;
  #closed = false;
  #initializing: Promise<void> | undefined;
  /** Resolution details per engine answer (the engine's answers are shared frozen objects): built once each. */
  #details = new WeakMap<EvaluationResult, ResolutionDetails<unknown>>();

  constructor(options: ToggleMasterProviderOptions) {
    this.#options = options;
    this.#log = new OnceLogger(options.logger ?? console);
    if (options.baseUrl === undefined && options.bootstrap === undefined)
      throw new Error('ToggleMaster: give the evaluation service (baseUrl and sdkKey), a bootstrap document, or both');
    if (options.baseUrl !== undefined) {
      const fetchFunction = options.fetch ?? globalThis.fetch;
      this.#service = {
        baseUrl: options.baseUrl,
        sdkKey: options.sdkKey,
        fetch: (input, init) => fetchFunction(input, init),
        requestTimeoutMs: options.requestTimeoutMs ?? defaults.requestTimeoutMs,
      };
    }
  }

  get #logger(): ProviderLogger {
    return this.#log.logger;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Life cycle

  /** Reads the configuration (or the bootstrap), starts syncing and reporting. Once: a second call waits for the first. */
  initialize(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('ToggleMaster: this provider was closed; make a new one'));
    this.#initializing ??= this.#initialize();
    return this.#initializing;
  }

  async #initialize(): Promise<void> {
    const options = this.#options;
    if (options.bootstrap !== undefined) {
      const document =
        typeof options.bootstrap === 'string'
          ? (JSON.parse(await readFile(options.bootstrap, 'utf8')) as unknown)
          : (options.bootstrap as unknown);
      this.#use(document);
      this.#lastSyncAt = Date.now();
    }
    const service = this.#service;
    if (service) {
      const retry = { min: options.retry?.minDelayMs ?? defaults.minRetryMs, max: options.retry?.maxDelayMs ?? defaults.maxRetryMs };
      if (options.events?.enabled !== false && !this.#reporter) {
        const events = options.events ?? {};
        this.#reporter = new Reporter({
          send: (path, body, key, abort) => postReport(service, path, body, key, abort),
          logger: this.#logger,
          maxBuffered: events.maxBuffered ?? defaults.maxBuffered,
          maxCountGroups: events.maxCountGroups ?? defaults.maxCountGroups,
          maxTrackBuffered: events.maxTrackBuffered ?? defaults.maxTrackBuffered,
          flushIntervalMs: events.flushIntervalMs ?? defaults.flushIntervalMs,
          minRetryMs: retry.min,
          maxRetryMs: retry.max,
        });
        this.#reporter.start();
      }
      this.#sync ??= new ConfigurationSync({
        service,
        stream: options.stream !== false,
        pollIntervalMs: options.pollIntervalMs ?? defaults.pollIntervalMs,
        minRetryMs: retry.min,
        maxRetryMs: retry.max,
        streamIdleTimeoutMs: options.streamIdleTimeoutMs ?? defaults.streamIdleTimeoutMs,
        log: this.#log,
        onDocument: (document) => this.#use(document),
        onSynced: () => {
          this.#lastSyncAt = Date.now();
          this.#checkStale();
        },
        onStreaming: () => this.#checkStale(),
      });
      const staleAfterMs = options.staleAfterMs ?? defaults.staleAfterMs;
      this.#staleTimer = setInterval(() => this.#checkStale(), Math.max(10, Math.min(1_000, staleAfterMs / 4)));
      this.#staleTimer.unref();
      const hadDocument = this.#configuration !== undefined;
      this.#sync.start();
      if (!hadDocument) await this.#awaitFirstDocument(options.initTimeoutMs ?? defaults.initTimeoutMs);
    }
  }

  /** Waits for the first document; fails at once when the key was refused, or after the time allowed. */
  async #awaitFirstDocument(timeoutMs: number): Promise<void> {
    const sync = this.#sync!;
    const deadline = Date.now() + timeoutMs;
    await new Promise<void>((resolve, reject) => {
      const fail = (message: string) => {
        clearInterval(check);
        this.#firstDocument = undefined;
        this.#initFailed = true;
        reject(new Error(`ToggleMaster: ${message}; the provider keeps trying and becomes ready once it has a configuration`));
      };
      const check = setInterval(() => {
        if (this.#configuration) this.#firstDocument?.();
        else if (sync.refusal !== undefined) fail(sync.refusal);
        else if (Date.now() >= deadline) fail(`no configuration could be read from ${this.#service!.baseUrl} in ${timeoutMs} ms`);
        else if (this.#closed) fail('the provider was closed');
      }, 20);
      this.#firstDocument = () => {
        clearInterval(check);
        this.#firstDocument = undefined;
        resolve();
      };
    });
  }

  /** Stops syncing and sends what is left to report, within `events.closeTimeoutMs`. */
  async onClose(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#staleTimer);
    await this.#sync?.stop();
    await this.#reporter?.close(this.#options.events?.closeTimeoutMs ?? defaults.closeTimeoutMs);
  }

  /** Puts a new document in use (throws if it cannot be compiled: the copy in use stays). */
  #use(raw: unknown): { eventStreams?: ConfigurationDocument['eventStreams'] } {
    const document = parseDocument(raw);
    const configuration = compileDocument(document);
    const before = this.#configuration;
    this.#configuration = configuration;
    this.#details = new WeakMap();
    if (before) {
      const flagsChanged = changedFlags(before, configuration);
      if (flagsChanged.length > 0) this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged });
    } else if (this.#firstDocument) {
      this.#firstDocument();
    } else if (this.#initFailed) {
      this.#initFailed = false;
      this.events.emit(ProviderEvents.Ready);
    }
    return { eventStreams: document.eventStreams };
  }

  /** Answers are STALE after `staleAfterMs` without a sync (an open stream counts as one going on). */
  #checkStale(): void {
    if (this.#closed || !this.#sync || this.#lastSyncAt === undefined) return;
    const staleAfterMs = this.#options.staleAfterMs ?? defaults.staleAfterMs;
    const stale = !this.#sync.streaming && Date.now() - this.#lastSyncAt > staleAfterMs;
    if (stale === this.#stale) return;
    this.#stale = stale;
    this.#details = new WeakMap();
    if (stale) {
      this.#logger.warn(`ToggleMaster: the configuration has not been synced for ${staleAfterMs} ms; answers carry the reason STALE`);
      this.events.emit(ProviderEvents.Stale, { message: `no sync for ${staleAfterMs} ms` });
    } else if (this.#configuration) {
      this.#logger.info('ToggleMaster: the configuration is synced again');
      this.events.emit(ProviderEvents.Ready);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Evaluation

  resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
    logger: Logger,
  ): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.#resolve(flagKey, defaultValue, context, 'boolean', logger));
  }

  resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
    logger: Logger,
  ): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.#resolve(flagKey, defaultValue, context, 'string', logger));
  }

  resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
    logger: Logger,
  ): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.#resolve(flagKey, defaultValue, context, 'number', logger));
  }

  resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
    logger: Logger,
  ): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.#resolve(flagKey, defaultValue, context, 'object', logger));
  }

  /**
   * The engine's answer in OpenFeature's terms: the engine's reason (STATIC, TARGETING_MATCH, SPLIT, DEFAULT,
   * DISABLED) — STALE instead while the copy is stale —, its variant and value, the deciding rule in
   * `flagMetadata.ruleId` (and the engine's reason in `flagMetadata.reason` when the reason says STALE); an error
   * with the engine's code (FLAG_NOT_FOUND, TYPE_MISMATCH, TARGETING_KEY_MISSING, INVALID_CONTEXT, GENERAL) and the
   * caller's default value.
   */
  #resolve<T>(flagKey: string, defaultValue: T, context: EvaluationContext, type: ResolvedType, _logger: Logger): ResolutionDetails<T> {
    const configuration = this.#configuration;
    if (!configuration) return notReady(defaultValue);
    const readable = asJson(context) as EngineContext;
    const result = evaluateFlag(configuration.compiled, flagKey, readable, { expectedType: engineType[type] });
    // As the service: an evaluation is recorded, unless the key is not even a flag key (nothing to attribute it to).
    if (this.#reporter && (result.errorCode !== 'FLAG_NOT_FOUND' || (flagKey.length <= 100 && flagKeyPattern.test(flagKey))))
      this.#reporter.recordEvaluation(result, readable.targetingKey);
    if (result.reason === 'ERROR') {
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.ERROR,
        errorCode: (result.errorCode ?? ErrorCode.GENERAL) as ErrorCode,
        errorMessage: result.errorMessage ?? 'the flag could not be evaluated',
      };
    }
    if (type === 'object') return this.#answer(result, structuredClone(result.value)) as ResolutionDetails<T>;
    let details = this.#details.get(result);
    if (!details) {
      details = this.#answer(result, result.value);
      if (Object.isFrozen(result)) this.#details.set(result, details);
    }
    return details as ResolutionDetails<T>;
  }

  #answer(result: EvaluationResult, value: unknown): ResolutionDetails<unknown> {
    const flagMetadata: Record<string, string> = {};
    if (result.ruleId !== undefined) flagMetadata.ruleId = result.ruleId;
    if (this.#stale) flagMetadata.reason = result.reason;
    return Object.freeze({
      value,
      ...(result.variant !== undefined ? { variant: result.variant } : {}),
      reason: this.#stale ? StandardResolutionReasons.STALE : result.reason,
      flagMetadata: Object.freeze(flagMetadata),
    });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Tracking

  /**
   * A metric event for release guardrails (OpenFeature's `client.track(name, context, details)`): `details.value`
   * is the measurement (1 when left out), `details.flagKey` names the flag whose release it judges, and
   * `details.variant` the variant the user was served — left out, it is evaluated here from the context, as the
   * service would. An event without a flag key cannot be attributed: it is dropped (counted in `stats()`, said once).
   */
  track(trackingEventName: string, context: EvaluationContext, trackingEventDetails: TrackingEventDetails): void {
    const reporter = this.#reporter;
    if (!reporter) return;
    const details = trackingEventDetails ?? {};
    if (!metricNamePattern.test(trackingEventName)) {
      reporter.dropTrack(
        'name',
        `tracking event "${trackingEventName.slice(0, 120)}" dropped: a metric name is a letter or digit, then up to 99 of A-Z a-z 0-9 _ . : -`,
      );
      return;
    }
    const flagKey = details.flagKey;
    if (typeof flagKey !== 'string' || flagKey.length === 0) {
      reporter.dropTrack(
        'no-flag',
        `tracking event "${trackingEventName}" dropped: guardrails judge a flag's release, so give the flag in details.flagKey (and the variant served in details.variant)`,
      );
      return;
    }
    const value = details.value;
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > maxMetricValue)) {
      reporter.dropTrack('value', `tracking event "${trackingEventName}" dropped: details.value must be a finite number within ±1e12`);
      return;
    }
    const configuration = this.#configuration;
    const flag = configuration?.compiled.flags.get(flagKey);
    if (!configuration || !flag) {
      reporter.dropTrack('unknown-flag', `tracking event "${trackingEventName}" dropped: no flag "${flagKey}" in the configuration`);
      return;
    }
    let variant = details.variant;
    if (variant !== undefined && (typeof variant !== 'string' || variant.length === 0 || variant.length > 100)) {
      reporter.dropTrack('variant', `tracking event "${trackingEventName}" dropped: details.variant must be a variant key`);
      return;
    }
    if (variant === undefined) {
      // Assignment is deterministic: evaluating again tells which variant this context was served.
      const result = evaluateFlag(configuration.compiled, flagKey, asJson(context) as EngineContext);
      if (result.variant === undefined) {
        reporter.dropTrack(
          'unattributable',
          `tracking event "${trackingEventName}" dropped: flag "${flagKey}" serves no variant to its context (${result.errorMessage ?? result.reason})`,
        );
        return;
      }
      variant = result.variant;
    }
    reporter.recordTrack({ name: trackingEventName, flagKey, variant, ...(value !== undefined ? { value } : {}), at: Date.now() });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Introspection

  /** What was reported, what waits, what was dropped; and the state of the configuration. */
  stats(): ProviderStats {
    const reports = this.#reporter?.stats() ?? {
      evaluations: { recorded: 0, sent: 0, buffered: 0, counted: 0, inFlight: 0, dropped: 0, retries: 0 },
      track: { recorded: 0, sent: 0, buffered: 0, counted: 0, inFlight: 0, dropped: 0, retries: 0 },
    };
    return {
      ...reports,
      sync: {
        lastSyncAt: this.#lastSyncAt,
        etag: this.#sync?.etag,
        stale: this.#stale,
        streaming: this.#sync?.streaming ?? false,
        flags: this.#configuration?.document.flags.length ?? 0,
      },
    };
  }

  /** Sends the reports waiting now (they go every `events.flushIntervalMs` anyway). */
  flush(): void {
    this.#reporter?.flush();
  }

  /** The configuration in use (as the service sent it, or the bootstrap). */
  get configuration(): ConfigurationDocument | undefined {
    return this.#configuration?.document;
  }
}
