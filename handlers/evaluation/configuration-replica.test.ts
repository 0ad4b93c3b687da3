import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createMemoryConfigCache } from '../../shared/propagation/memory-config-cache.ts';
import type { ConfigCache } from '../../shared/propagation/config-cache.ts';
import type { Rule } from '../../shared/contracts/targeting-model.ts';
import { evaluateFlag } from '../../shared/engine/index.ts';
import { createLogger } from '../../shared/logging/logger.ts';
import { flagDocument } from '../../shared/testing/flags-client.ts';
import { createConfigurationReplica } from './configuration-replica.ts';

const rule: Rule = {
  id: '22222222-2222-4222-8222-222222222222',
  flagKey: 'gate',
  environment: 'production',
  priority: 0,
  name: 'everyone',
  conditions: [],
  segments: [],
  serve: { variant: 'on' },
};
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('configuration replica', () => {
  it('does not let a reload that read the cache before a change undo that change', async () => {
    const cache = createMemoryConfigCache();
    await cache.putFlag(flagDocument('gate'));
    await cache.markSeeded('flags');
    await cache.markSeeded('targeting');
    // A cache whose next rules read is held back until we let it go: a slow reload.
    let holdNext = false;
    let release: () => void = () => {};
    const slow: ConfigCache = {
      ...cache,
      async getRules(environment, keys) {
        const rules = await cache.getRules(environment, keys);
        if (holdNext) {
          holdNext = false;
          await new Promise<void>((resolve) => (release = resolve));
        }
        return rules;
      },
    };
    const replica = createConfigurationReplica({ cache: slow, logger: createLogger('silent', 'test'), metrics: new Registry() });
    await replica.start();
    expect(evaluateFlag(await replica.environment('production'), 'gate', { targetingKey: 'u' }).reason).toBe('STATIC');

    holdNext = true;
    await cache.publish({ kind: 'reseeded', owner: 'flags' }); // a full reload starts and reads "no rules"
    await settle();
    await cache.putRules('production', 'gate', [rule]);
    await cache.publish({ kind: 'rules', environment: 'production', flagKey: 'gate' }); // the change
    await settle();
    release(); // the reload finishes with what it read before the change
    await settle();

    expect(evaluateFlag(await replica.environment('production'), 'gate', { targetingKey: 'u' })).toMatchObject({
      reason: 'TARGETING_MATCH',
      ruleId: rule.id,
    });
    await replica.stop();
  });

  it('compiles a flag that arrives after its rules with those rules', async () => {
    const cache = createMemoryConfigCache();
    await cache.markSeeded('flags');
    await cache.markSeeded('targeting');
    const replica = createConfigurationReplica({ cache, logger: createLogger('silent', 'test'), metrics: new Registry() });
    await replica.start();
    // The targeting relay is quicker than the flags relay: the rule is published before the flag exists anywhere.
    await cache.putRules('production', 'gate', [rule]);
    await cache.publish({ kind: 'rules', environment: 'production', flagKey: 'gate' });
    await settle();
    expect(evaluateFlag(await replica.environment('production'), 'gate', {}).errorCode).toBe('FLAG_NOT_FOUND');
    await cache.putFlag(flagDocument('gate'));
    await cache.publish({ kind: 'flag', key: 'gate' });
    await settle();
    expect(evaluateFlag(await replica.environment('production'), 'gate', { targetingKey: 'u' })).toMatchObject({
      reason: 'TARGETING_MATCH',
      ruleId: rule.id,
    });
    await replica.stop();
  });

  it('answers 503 while the cache is not complete (the owners have not seeded it), and loads once it is', async () => {
    const cache = createMemoryConfigCache();
    await cache.putFlag(flagDocument('gate'));
    await cache.markSeeded('flags');
    const replica = createConfigurationReplica({ cache, logger: createLogger('silent', 'test'), metrics: new Registry() });
    await expect(Promise.resolve().then(() => replica.environment('production'))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await cache.markSeeded('targeting');
    expect(evaluateFlag(await replica.environment('production'), 'gate', { targetingKey: 'u' }).reason).toBe('STATIC');
  });

  it('loads many flags from the cache in chunks, each with its own rules, and only those with a state here', async () => {
    const cache = createMemoryConfigCache();
    const keys = Array.from({ length: 1_234 }, (_, i) => `flag-${String(i).padStart(4, '0')}`);
    for (const key of keys) await cache.putFlag(flagDocument(key));
    // Every third flag has a rule; one flag has no state in production at all.
    for (const key of keys.filter((_, i) => i % 3 === 0)) await cache.putRules('production', key, [{ ...rule, flagKey: key, id: rule.id }]);
    const stateless = flagDocument('zz-development-only');
    await cache.putFlag({ ...stateless, environments: { development: stateless.environments.development! } });
    await cache.markSeeded('flags');
    await cache.markSeeded('targeting');
    const replica = createConfigurationReplica({ cache, logger: createLogger('silent', 'test'), metrics: new Registry() });
    const env = await replica.environment('production');
    expect([...env.flags.keysInOrder()]).toEqual(keys);
    keys.forEach((key, i) => expect(evaluateFlag(env, key, { targetingKey: 'u' }).reason).toBe(i % 3 === 0 ? 'TARGETING_MATCH' : 'STATIC'));
  });

  it("makes the SDK configuration with the cache's rules, serves the last one made while the cache is away, and 503 before any", async () => {
    const cache = createMemoryConfigCache();
    await cache.putFlag(flagDocument('gate'));
    await cache.putRules('production', 'gate', [rule]);
    await cache.markSeeded('flags');
    await cache.markSeeded('targeting');
    let away = false;
    const flaky: ConfigCache = {
      ...cache,
      getRules: async (environment, keys) => {
        if (away) throw new Error('connection refused');
        return cache.getRules(environment, keys);
      },
    };
    const replica = createConfigurationReplica({ cache: flaky, logger: createLogger('silent', 'test'), metrics: new Registry() });
    await replica.environment('production');
    away = true;
    await expect(replica.document('production', 'default')).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    away = false;
    const made = await replica.document('production', 'default');
    const { flags } = JSON.parse(made.json) as { flags: { key: string; rules: Rule[] }[] };
    expect(flags.map((f) => [f.key, f.rules.map((r) => r.id)])).toEqual([['gate', [rule.id]]]);
    // A change applied, then the cache away before an SDK asks: the last document made, until it can be made again.
    await replica.start();
    await cache.putRules('production', 'gate', [{ ...rule, name: 'changed' }]);
    await cache.publish({ kind: 'rules', environment: 'production', flagKey: 'gate' });
    await settle();
    away = true;
    expect(await replica.document('production', 'default')).toBe(made);
    away = false;
    expect((await replica.document('production', 'default')).json).toContain('"name":"changed"');
    await replica.stop();
  });

  it("changes a big segment's keys on every change heard, a repeated or late message included, and drops it when it is gone", async () => {
    const cache = createMemoryConfigCache();
    await cache.putFlag(flagDocument('gate'));
    await cache.putRules('production', 'gate', [{ ...rule, segments: ['crowd'] }]);
    const members = Array.from({ length: 5_000 }, (_, i) => `member-${String(i).padStart(5, '0')}`);
    const crowd = { key: 'crowd', name: 'Crowd', description: '', project: 'default', conditions: [], included: members, excluded: [] };
    await cache.putSegment(crowd);
    await cache.markSeeded('flags');
    await cache.markSeeded('targeting');
    const replica = createConfigurationReplica({ cache, logger: createLogger('silent', 'test'), metrics: new Registry() });
    await replica.start();
    const reason = async (targetingKey: string) => evaluateFlag(await replica.environment('production'), 'gate', { targetingKey }).reason;
    expect(await reason('member-00042')).toBe('TARGETING_MATCH');
    // One key replaced (the lists stay in byte order, as the cache holds them), announced twice.
    await cache.putSegment({ ...crowd, included: [...members.filter((k) => k !== 'member-00042'), 'newcomer'].sort() });
    await cache.publish({ kind: 'segment', key: 'crowd' });
    await cache.publish({ kind: 'segment', key: 'crowd' });
    await settle();
    expect(await reason('member-00042')).not.toBe('TARGETING_MATCH');
    expect(await reason('newcomer')).toBe('TARGETING_MATCH');
    expect(await reason('member-00043')).toBe('TARGETING_MATCH');
    // Out of order now: compiled whole, the same answers.
    await cache.putSegment({ ...crowd, included: ['zed', 'newcomer', 'member-00042'], excluded: ['newcomer'] });
    await cache.publish({ kind: 'segment', key: 'crowd' });
    await settle();
    expect(await reason('member-00042')).toBe('TARGETING_MATCH');
    expect(await reason('zed')).toBe('TARGETING_MATCH');
    expect(await reason('newcomer')).not.toBe('TARGETING_MATCH');
    expect(await reason('member-00043')).not.toBe('TARGETING_MATCH');
    await cache.removeSegment('crowd');
    await cache.publish({ kind: 'segment', key: 'crowd' });
    await settle();
    expect(await reason('zed')).not.toBe('TARGETING_MATCH');
    await replica.stop();
  });
});
