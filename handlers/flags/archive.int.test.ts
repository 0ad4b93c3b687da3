import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StartedService } from '../../shared/runtime/service.ts';
import { startRedisServer } from '../../shared/testing/redis-server.ts';
import { openSse, type SseBlock } from '../../shared/testing/sse-reader.ts';
import { until } from '../../shared/testing/until.ts';
import { startPlatform, type Platform } from '../testing/platform.ts';

interface OfrepAnswer {
  key?: string;
  value?: unknown;
  variant?: string;
  reason?: string;
  errorCode?: string;
}
interface BulkAnswer {
  flags: OfrepAnswer[];
  eventStreams?: { endpoint: { requestUri: string } }[];
}

/**
 * Archive instead of delete (issue 18) end to end on real servers — PostgreSQL, Redis, the flags and targeting
 * services and two evaluation instances: an archived flag leaves evaluation everywhere through the usual change path
 * (outbox → relay → Redis → replicas), a restored one answers as before, and a purge removes its rules while its
 * history stays.
 */
describe('archiving a flag, end to end', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let platform: Platform;

  const single = async (instance: StartedService, key: string, country = 'BR') => {
    const response = await fetch(`${instance.url}/ofrep/v1/evaluate/flags/${key}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': platform.sdkKey },
      body: JSON.stringify({ context: { targetingKey: 'user-1', country } }),
    });
    return { status: response.status, answer: (await response.json()) as OfrepAnswer };
  };
  const bulk = async (instance: StartedService) => {
    const response = await fetch(`${instance.url}/ofrep/v1/evaluate/flags`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': platform.sdkKey },
      body: JSON.stringify({ context: { targetingKey: 'user-1', country: 'BR' } }),
    });
    return (await response.json()) as BulkAnswer;
  };
  const sdkConfigurationKeys = async (instance: StartedService) => {
    const response = await fetch(`${instance.url}/sdk/v1/configuration`, { headers: { 'x-api-key': platform.sdkKey } });
    expect(response.status).toBe(200);
    const document = (await response.json()) as { flags: { key: string }[] };
    return document.flags.map((f) => f.key);
  };
  const flagsUrl = (path: string) => `${platform.urls.flags}${path}`;
  /** Every instance answers `key` for Brazil as `expected` says (within 5 s); how long that took. */
  const everywhere = async (key: string, expected: (a: { status: number; answer: OfrepAnswer }) => boolean) => {
    return until(async () => (await Promise.all(platform.evaluations.map((i) => single(i, key)))).every(expected));
  };
  const served = (variant: string) => (a: { status: number; answer: OfrepAnswer }) => a.status === 200 && a.answer.variant === variant;
  const notFound = (a: { status: number; answer: OfrepAnswer }) => a.status === 404 && a.answer.errorCode === 'FLAG_NOT_FOUND';

  beforeAll(async () => {
    redis = await startRedisServer();
    platform = await startPlatform({ redisUrl: redis.url, evaluationInstances: 2 });
    for (const key of ['retiring', 'bystander']) {
      const created = await platform.call('POST', flagsUrl('/flags'), {
        key,
        name: key,
        type: 'boolean',
        environments: { production: { enabled: true, defaultServe: { variant: 'off' } } },
      });
      expect(created.status).toBe(201);
    }
    // Brazil gets "on" from a rule: a restored flag must answer with its rules too.
    const rule = await platform.call('POST', `${platform.urls.targeting}/targeting/rules`, {
      flagKey: 'retiring',
      environment: 'production',
      conditions: [{ attribute: 'country', operator: 'eq', values: ['BR'] }],
      serve: { variant: 'on' },
    });
    expect(rule.status).toBe(201);
    await everywhere('retiring', served('on'));
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  it('answers FLAG_NOT_FOUND for an archived flag on every instance within a second, leaves it out of bulk, the SDK configuration and the list, and tells the streams', async () => {
    const [first] = platform.evaluations;
    const bulkAnswer = await bulk(first!);
    expect(bulkAnswer.flags.map((f) => f.key).sort()).toEqual(['bystander', 'retiring']);
    expect(await sdkConfigurationKeys(first!)).toContain('retiring');
    const stream = await openSse(`${first!.url}${bulkAnswer.eventStreams![0]!.endpoint.requestUri}`);
    try {
      await stream.next(() => true, { from: 0 });
      const archived = await platform.call('DELETE', flagsUrl('/flags/retiring'));
      expect(archived.status).toBe(204);
      expect(await everywhere('retiring', notFound)).toBeLessThan(1_000);
      // An OFREP client hears that the configuration changed, and its re-fetch no longer has the flag.
      await stream.next((block: SseBlock) => block.data !== undefined, { from: 0 });
    } finally {
      stream.close();
    }
    for (const instance of platform.evaluations) {
      expect((await bulk(instance)).flags.map((f) => f.key)).toEqual(['bystander']);
      expect(await sdkConfigurationKeys(instance)).not.toContain('retiring');
      expect((await single(instance, 'bystander')).answer.variant).toBe('off');
    }
    const list = await platform.call<{ items: { key: string }[] }>('GET', flagsUrl('/flags'));
    expect(list.body.items.map((f) => f.key)).toEqual(['bystander']);
    const archivedList = await platform.call<{ items: { key: string; archivedBy: { email: string } }[] }>(
      'GET',
      flagsUrl('/flags?archived=true'),
    );
    expect(archivedList.body.items).toMatchObject([{ key: 'retiring', archivedBy: { email: 'admin@example.com' } }]);
    // /targeting/match knows it no more than evaluation does; its rule is kept for a restore.
    const match = await platform.call<{ detail: string }>('POST', `${platform.urls.targeting}/targeting/match`, {
      flagKey: 'retiring',
      environment: 'production',
      context: { targetingKey: 'user-1', country: 'BR' },
    });
    expect(match.status).toBe(400);
    expect(match.body.detail).toContain('archived');
    const rules = await platform.call<{ items: unknown[] }>('GET', `${platform.urls.targeting}/targeting/rules?flagKey=retiring`);
    expect(rules.body.items).toHaveLength(1);
  });

  it('evaluates a restored flag as before, rules included, on every instance within a second', async () => {
    const restored = await platform.call('POST', flagsUrl('/flags/retiring/restore'));
    expect(restored.status).toBe(200);
    expect(await everywhere('retiring', served('on'))).toBeLessThan(1_000);
    expect((await single(platform.evaluations[1]!, 'retiring', 'US')).answer).toMatchObject({ variant: 'off', value: false });
    expect(await sdkConfigurationKeys(platform.evaluations[0]!)).toContain('retiring');
  });

  it('keeps the history of a purged flag, removes its rules, and leaves nothing of it to a new flag with its key', async () => {
    expect((await platform.call('DELETE', flagsUrl('/flags/retiring'))).status).toBe(204);
    await everywhere('retiring', notFound);
    const purged = await platform.call('POST', flagsUrl('/flags/retiring/purge'));
    expect(purged.status).toBe(204);
    expect((await platform.call('GET', flagsUrl('/flags/retiring'))).status).toBe(404);
    const history = await platform.call<{ items: { action: string }[] }>('GET', flagsUrl('/flags/retiring/history'));
    expect(history.status).toBe(200);
    expect(history.body.items.map((e) => e.action)).toEqual(['purged', 'archived', 'restored', 'archived', 'created']);
    const rules = await platform.call<{ items: unknown[] }>('GET', `${platform.urls.targeting}/targeting/rules?flagKey=retiring`);
    expect(rules.body.items).toEqual([]);
    // A new flag with the key starts clean: Brazil gets the default serve, not the old rule's "on".
    const reborn = await platform.call('POST', flagsUrl('/flags'), {
      key: 'retiring',
      name: 'Retiring, again',
      type: 'boolean',
      environments: { production: { enabled: true, defaultServe: { variant: 'off' } } },
    });
    expect(reborn.status).toBe(201);
    await everywhere('retiring', (a) => a.status === 200);
    for (const instance of platform.evaluations) expect((await single(instance, 'retiring')).answer).toMatchObject({ variant: 'off' });
  });
});
