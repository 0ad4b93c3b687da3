/**
 * @togglemaster/openfeature-provider: ToggleMaster flags evaluated in-process, for OpenFeature's server SDK.
 *
 *   import { OpenFeature } from '@openfeature/server-sdk';
 *   import { ToggleMasterProvider } from '@togglemaster/openfeature-provider';
 *   await OpenFeature.setProviderAndWait(new ToggleMasterProvider({ baseUrl, sdkKey }));
 */
export { ToggleMasterProvider } from './provider.ts';
export type {
  Condition,
  ConfigurationDocument,
  DeliveryStats,
  EnvironmentState,
  EventStream,
  FlagConfiguration,
  FlagType,
  Prerequisite,
  ProviderLogger,
  ProviderStats,
  Rule,
  Segment,
  Serve,
  ToggleMasterProviderOptions,
  Variant,
} from './types.ts';
