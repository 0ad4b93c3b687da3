/**
 * The test page's script, bundled for the browser: the official OpenFeature web SDK and OFREP web provider,
 * unchanged, set up as a browser application would be (a public client key, server-sent events for change
 * detection, no polling, no refresh on tab focus, no local cache, so every refetch the test sees came from an
 * event). It keeps what it sees on `globalThis.webProviderPage`.
 */
import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';
import type { FlagReading, PageGlobals, PageState } from './page-state.ts';

const globals = globalThis as unknown as PageGlobals;
const { ofrepBaseUrl, sdkKey, flagKeys, targetingKey } = globals.webProviderConfig;
const state: PageState = { ready: false, readings: {}, changes: [], troubles: [] };
globals.webProviderPage = state;

const now = () => performance.timeOrigin + performance.now();
const client = OpenFeature.getClient();

function readFlags(): Record<string, FlagReading> {
  return Object.fromEntries(
    flagKeys.map((key) => {
      const { value, variant, reason, errorCode } = client.getBooleanDetails(key, false);
      return [key, { value, variant, reason, errorCode }];
    }),
  );
}

OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
  // Stamped first: the time the application learns of the change is what is measured.
  const at = now();
  state.readings = readFlags();
  // The handler's type is every event's, so flagsChanged is not known to be an array.
  const changed: unknown = details?.flagsChanged;
  state.changes.push({ at, flagsChanged: Array.isArray(changed) ? changed.map(String) : [], readings: state.readings });
});
for (const event of [ProviderEvents.Stale, ProviderEvents.Error] as const)
  OpenFeature.addHandler(event, (details) => state.troubles.push({ at: now(), event, message: details?.message }));

const provider = new OFREPWebProvider({
  baseUrl: ofrepBaseUrl,
  pollInterval: 0,
  changeDetection: 'sse',
  disableVisibilityRefresh: true,
  cacheMode: 'disabled',
  headers: [['X-API-Key', sdkKey]],
});
OpenFeature.setProviderAndWait(provider, { targetingKey }).then(
  () => {
    state.readings = readFlags();
    state.readyAt = now();
    state.ready = true;
  },
  (error: unknown) => {
    state.failure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  },
);
