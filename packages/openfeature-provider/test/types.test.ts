import { describe, expect, it } from 'vitest';
import type { EnvironmentConfiguration, FlagConfiguration as ContractFlag } from '../../../shared/contracts/evaluation-model.ts';
import type { SdkConfigurationSchema } from '../../../shared/contracts/sdk-api.ts';
import type { Segment as ContractSegment } from '../../../shared/contracts/targeting-model.ts';
import type { Static } from 'typebox';
import type { ConfigurationDocument, EventStream, FlagConfiguration, Segment } from '../src/index.ts';

/*
 * The package's public types are written out (its declarations must not need the services' code): they must say
 * what the contracts say. Checked by the type checker (npm run typecheck), both ways.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const flagsAgree: Same<FlagConfiguration, ContractFlag> = true;
const segmentsAgree: Same<Segment, ContractSegment> = true;
const streamFits: [Static<typeof SdkConfigurationSchema>['eventStreams']] extends [EventStream[] | undefined] ? true : false = true;
const documentFits: [ConfigurationDocument] extends [EnvironmentConfiguration] ? true : false = true;

describe('public types', () => {
  it('are the contracts', () => {
    expect([flagsAgree, segmentsAgree, streamFits, documentFits]).toEqual([true, true, true, true]);
  });
});
