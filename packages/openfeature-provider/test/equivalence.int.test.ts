import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { EvaluationContext, JsonValue, Logger, ResolutionDetails } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FlagType } from '../../../shared/contracts/flag-model.ts';
import { ToggleMasterProvider } from '../src/index.ts';
import { evaluationService, serverKey, type EvaluationService } from './evaluation-service.ts';
import { contextArbitrary, demoSeed, generatedSeed } from './flag-sets.ts';
import { silentLogger } from './fixtures.ts';

interface OfrepAnswer {
  key: string;
  value?: unknown;
  variant?: string;
  reason?: string;
  metadata?: { ruleId?: string; reason?: string };
  errorCode?: string;
}

/** What both sides must agree on, in one shape: value, variant, the engine's reason, the rule; or the error code. */
function fromOfrep(answer: OfrepAnswer) {
  if (answer.errorCode !== undefined) return { error: answer.errorCode };
  return {
    value: answer.value,
    variant: answer.variant,
    reason: answer.metadata?.reason ?? answer.reason,
    ruleId: answer.metadata?.ruleId,
  };
}

function fromProvider(details: ResolutionDetails<unknown>) {
  if (details.errorCode !== undefined) return { error: details.errorCode };
  return { value: details.value, variant: details.variant, reason: details.reason, ruleId: details.flagMetadata?.ruleId };
}

/*
 * The acceptance test of issue 16: for 10,000 random contexts over the demo flags and 200 generated flags (rules
 * over every operator, segments reading segments, splits, prerequisites), the provider's answers — evaluated in
 * this process from the configuration it read from GET /sdk/v1/configuration — equal the OFREP endpoint's.
 */
describe('the provider answers as the evaluation service does', () => {
  const seed = (() => {
    const demo = demoSeed();
    const generated = generatedSeed(200);
    return {
      flags: [...demo.flags, ...generated.flags],
      rules: [...demo.rules, ...generated.rules],
      segments: [...demo.segments, ...generated.segments],
    };
  })();
  const types = new Map<string, FlagType>(seed.flags.map((f) => [f.key, f.type]));
  let service: EvaluationService;
  let provider: ToggleMasterProvider;
  const logger = silentLogger().logger as Logger;

  beforeAll(async () => {
    service = await evaluationService(seed);
    provider = new ToggleMasterProvider({ baseUrl: service.baseUrl, sdkKey: serverKey, events: { enabled: false }, logger });
    await provider.initialize();
  });
  afterAll(async () => {
    await provider?.onClose();
    await service?.close();
  });

  async function local(key: string, context: EvaluationContext): Promise<ResolutionDetails<unknown>> {
    switch (types.get(key)) {
      case 'boolean':
        return provider.resolveBooleanEvaluation(key, false, context, logger);
      case 'string':
        return provider.resolveStringEvaluation(key, '', context, logger);
      case 'number':
        return provider.resolveNumberEvaluation(key, 0, context, logger);
      default:
        return provider.resolveObjectEvaluation<JsonValue>(key, {}, context, logger);
    }
  }

  it('for 10,000 random contexts: value, variant, reason and rule id of every flag', async () => {
    expect(provider.stats().sync.flags).toBe(203);
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(contextArbitrary, async (context) => {
        const res = await service.app.inject({
          method: 'POST',
          url: '/ofrep/v1/evaluate/flags',
          headers: { 'x-api-key': serverKey },
          payload: { context },
        });
        expect(res.statusCode, res.body).toBe(200);
        const remote = res.json<{ flags: OfrepAnswer[] }>().flags;
        expect(remote).toHaveLength(203);
        for (const answer of remote) {
          const mine = fromProvider(await local(answer.key, context));
          const theirs = fromOfrep(answer);
          // Compared cheaply; expect() (slow) only says how they differ.
          if (!isDeepStrictEqual(mine, theirs)) expect(mine, `${answer.key} for ${JSON.stringify(context)}`).toEqual(theirs);
          const kind = 'error' in mine ? `ERROR:${mine.error}` : mine.reason!;
          seen.set(kind, (seen.get(kind) ?? 0) + 1);
        }
      }),
      { numRuns: 10_000, seed: 1616 },
    );
    // The set exercised every kind of answer.
    expect([...seen.keys()].sort()).toEqual(
      expect.arrayContaining([
        'DEFAULT',
        'DISABLED',
        'SPLIT',
        'STATIC',
        'TARGETING_MATCH',
        'ERROR:TARGETING_KEY_MISSING',
        'ERROR:INVALID_CONTEXT',
      ]),
    );
  }, 180_000);
});
