/** What the test page is told (inlined into it by the page server) and what it records for the test to read. */
export interface PageConfig {
  /** The evaluation service as the provider's OFREP base URL: another origin than the page's. */
  ofrepBaseUrl: string;
  /** A public `client` SDK key, as a browser application would ship it. */
  sdkKey: string;
  /** The boolean flags the page reads (with `false` as their default) after every change. */
  flagKeys: string[];
  targetingKey: string;
}

export interface FlagReading {
  value: boolean;
  variant?: string;
  reason?: string;
  errorCode?: string;
}

/** Times are `performance.timeOrigin + performance.now()` of the page, in milliseconds. */
export interface PageState {
  ready: boolean;
  readyAt?: number;
  /** Why the provider did not become ready, if it did not. */
  failure?: string;
  readings: Record<string, FlagReading>;
  /** Every ConfigurationChanged event, with the readings taken in its handler. */
  changes: { at: number; flagsChanged: string[]; readings: Record<string, FlagReading> }[];
  /** Stale and Error events of the provider (none expected). */
  troubles: { at: number; event: string; message?: string }[];
}

/** Where the page keeps its config and its state on `globalThis`. */
export interface PageGlobals {
  webProviderConfig: PageConfig;
  webProviderPage: PageState;
}
