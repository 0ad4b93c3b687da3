/*
 * The public types of the package. They describe what the evaluation service's `GET /sdk/v1/configuration` answers
 * (ToggleMaster's shared/contracts/sdk-api.ts and evaluation-model.ts) without depending on the services' code:
 * test/types.test.ts holds them to those contracts, both ways.
 */

export type FlagType = 'boolean' | 'string' | 'number' | 'json';

export interface Variant {
  key: string;
  value: unknown;
  name?: string;
}

/** Exactly one of `variant` or `rollout` (weights in percent, up to three decimals, total 100). */
export interface Serve {
  variant?: string;
  rollout?: { variant: string; weight: number }[];
  /** The context attribute to bucket on (default: `targetingKey`). */
  bucketBy?: string;
}

export interface Prerequisite {
  flagKey: string;
  variant: string;
}

export interface EnvironmentState {
  enabled: boolean;
  offVariant: string;
  defaultServe: Serve;
  prerequisites: Prerequisite[];
}

export interface Condition {
  /** A top-level attribute (`country`, `targetingKey`) or a dotted path (`account.plan`). */
  attribute: string;
  operator:
    | 'eq'
    | 'neq'
    | 'in'
    | 'not_in'
    | 'contains'
    | 'starts_with'
    | 'ends_with'
    | 'matches'
    | 'lt'
    | 'lte'
    | 'gt'
    | 'gte'
    | 'semver_eq'
    | 'semver_lt'
    | 'semver_gt'
    | 'before'
    | 'after'
    | 'exists'
    | 'not_exists'
    | 'in_segment'
    | 'not_in_segment';
  values: (string | number | boolean)[];
  negate?: boolean;
}

export interface Rule {
  id: string;
  flagKey: string;
  environment: string;
  /** Lower runs first. */
  priority: number;
  name: string;
  /** All must hold. */
  conditions: Condition[];
  /** Segment keys; the context must be in every one. */
  segments: string[];
  serve: Serve;
}

export interface Segment {
  key: string;
  name: string;
  description: string;
  conditions: Condition[];
  included: string[];
  excluded: string[];
}

/** One flag as it is configured in one environment, with its rules: what the engine compiles. */
export interface FlagConfiguration {
  key: string;
  type: FlagType;
  variants: Variant[];
  salt: string;
  /** Grows with every change of the flag. */
  version: number;
  clientVisible?: boolean;
  state: EnvironmentState;
  rules: Rule[];
}

/** A change stream the service offers (OFREP 0.3's `eventStreams` member). */
export interface EventStream {
  type: string;
  /** OFREP allows a full URL instead of `endpoint`. */
  url?: string;
  endpoint?: { origin?: string; requestUri: string };
  inactivityDelaySec?: number;
}

/**
 * The configuration of one environment, as `GET /sdk/v1/configuration` answers it — and the shape of a bootstrap
 * document (a file holding such an answer).
 */
export interface ConfigurationDocument {
  environment: string;
  flags: FlagConfiguration[];
  segments: Segment[];
  eventStreams?: EventStream[];
}

/** OpenFeature's logger, which the provider logs through (the SDK's own, or one given in the options). */
export interface ProviderLogger {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info(...args: unknown[]): void;
  debug(...args: unknown[]): void;
}

export interface ToggleMasterProviderOptions {
  /**
   * The evaluation service's base URL (e.g. `https://flags.example.com`): the configuration is read from
   * `<baseUrl>/sdk/v1/configuration`, evaluations and tracking events are sent to `<baseUrl>/events/v1/…`.
   * Needed unless the provider runs from `bootstrap` alone.
   */
  baseUrl?: string;
  /** A server SDK key of the environment (sent as `X-API-Key`). Client keys are refused by the service. */
  sdkKey?: string;
  /**
   * A configuration to start from instead of waiting for the service: the document itself, or the path of a JSON
   * file holding one. With `baseUrl` as well, the provider is ready at once and then syncs as usual.
   */
  bootstrap?: ConfigurationDocument | string;
  /** Follow the service's change stream when it offers one (default true); else, or while it is down, poll. */
  stream?: boolean;
  /** How often the configuration is asked again (with its ETag) when there is no stream (default 30 s). */
  pollIntervalMs?: number;
  /**
   * After this long without a successful sync (a stream open, or an answer to a request), answers carry the reason
   * `STALE` and the provider emits `PROVIDER_STALE`; `PROVIDER_READY` again once a sync succeeds (default 5 min).
   */
  staleAfterMs?: number;
  /** Back-off between reconnections of the stream and retries of requests: from `min` doubling to `max` (1 s, 30 s). */
  retry?: { minDelayMs?: number; maxDelayMs?: number };
  /** A stream that sends nothing (not even its keep-alive comments) for this long is reconnected (default 60 s). */
  streamIdleTimeoutMs?: number;
  /** Each HTTP request gives up after this long (default 10 s). */
  requestTimeoutMs?: number;
  /** `initialize()` fails (the SDK's ERROR status) if no configuration could be read in this time (default 30 s); the provider keeps trying and becomes READY once it reads one. */
  initTimeoutMs?: number;
  /** Evaluation and tracking reports. */
  events?: {
    /** Send evaluations to the service's analytics (default true when `baseUrl` is set). */
    enabled?: boolean;
    /** Raw evaluations kept for sending at most (default 10,000); beyond it, evaluations are counted instead. */
    maxBuffered?: number;
    /** Distinct (minute, flag, variant, reason, rule) groups counted at most (default 100,000); beyond it, dropped and reported. */
    maxCountGroups?: number;
    /** Tracking events kept for sending at most (default 10,000); beyond it, dropped and reported. */
    maxTrackBuffered?: number;
    /** How often buffered events are sent (default 1 s; sooner when a request's worth is waiting). */
    flushIntervalMs?: number;
    /** How long `onClose()` may spend sending what is left (default 5 s). */
    closeTimeoutMs?: number;
  };
  /** Where the provider logs (default: the OpenFeature SDK's logger handed to it, else `console`). */
  logger?: ProviderLogger;
  /** The fetch implementation (default: the global `fetch`). */
  fetch?: typeof fetch;
}

/** What became of the events of one kind: `recorded` = `sent` + `buffered` + `counted` + `inFlight` + `dropped`. */
export interface DeliveryStats {
  /** Recorded since the start. */
  recorded: number;
  /** Accepted by the service. */
  sent: number;
  /** Waiting to be sent, one by one. */
  buffered: number;
  /** Waiting to be sent as counts (evaluations only: the raw buffer was full). */
  counted: number;
  /** In a request being sent or waiting to be sent again. */
  inFlight: number;
  /** Not reported: refused by the service, over the bounds, not attributable (tracking), or left at close. */
  dropped: number;
  /** Requests that failed and were sent again with the same Idempotency-Key. */
  retries: number;
}

/** What the provider is doing (see `stats()`). */
export interface ProviderStats {
  evaluations: DeliveryStats;
  track: DeliveryStats;
  sync: {
    /** When the configuration last synced (ms since the epoch): undefined before the first time. */
    lastSyncAt: number | undefined;
    /** The ETag of the configuration in use. */
    etag: string | undefined;
    /** Whether answers carry the reason STALE right now. */
    stale: boolean;
    /** Whether the change stream is open. */
    streaming: boolean;
    /** Flags in the configuration in use. */
    flags: number;
  };
}
