import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertOfrep, assertOfrepEvent } from '../../shared/contracts/ofrep/ofrep-conformance.ts';
import type { StartedService } from '../../shared/runtime/service.ts';
import { startRedisServer } from '../../shared/testing/redis-server.ts';
import { openSse, type SseBlock } from '../../shared/testing/sse-reader.ts';
import { until } from '../../shared/testing/until.ts';
import { startPlatform, type Platform } from '../testing/platform.ts';

interface BulkAnswer {
  flags: { key: string; value?: unknown }[];
  eventStreams?: { type: string; endpoint: { requestUri: string }; inactivityDelaySec: number }[];
}

const isChange = (block: SseBlock) => block.data !== undefined;
const eventData = (block: SseBlock) => JSON.parse(block.data ?? '{}') as { type: string; etag: string; lastModified: number };

/**
 * OFREP 0.3 event streams end to end on real servers: a change made through the flags API is announced on every
 * stream of its environment, on every instance; a client that comes back (to another instance) after missing a
 * change hears of it at once; a revoked key's streams close.
 */
describe('OFREP event streams', () => {
  let redis: Awaited<ReturnType<typeof startRedisServer>>;
  let platform: Platform;

  const bulk = async (instance: StartedService, options: { key?: string; query?: string; etag?: string } = {}) => {
    const response = await fetch(`${instance.url}/ofrep/v1/evaluate/flags${options.query ?? ''}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': options.key ?? platform.sdkKey,
        ...(options.etag ? { 'if-none-match': options.etag } : {}),
      },
      body: JSON.stringify({ context: { targetingKey: 'user-1' } }),
    });
    const body = await response.text();
    assertOfrep('evaluateFlagsBulk', { statusCode: response.status, headers: Object.fromEntries(response.headers), body });
    return {
      status: response.status,
      etag: response.headers.get('etag') ?? '',
      answer: (body ? JSON.parse(body) : undefined) as BulkAnswer,
    };
  };
  const streamUrl = async (instance: StartedService, key?: string) => {
    const { answer } = await bulk(instance, key ? { key } : {});
    const [stream] = answer.eventStreams ?? [];
    expect(stream).toMatchObject({ type: 'sse', inactivityDelaySec: 120 });
    return `${instance.url}${stream!.endpoint.requestUri}`;
  };
  const toggle = async (enabled: boolean) => {
    const res = await platform.call('PATCH', `${platform.urls.flags}/flags/banner/environments/production`, { enabled });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    redis = await startRedisServer();
    platform = await startPlatform({ redisUrl: redis.url, evaluationInstances: 2 });
    const flag = await platform.call('POST', `${platform.urls.flags}/flags`, {
      key: 'banner',
      name: 'Banner',
      type: 'boolean',
      environments: { production: { enabled: false } },
    });
    expect(flag.status).toBe(201);
    await until(async () => (await bulk(platform.evaluations[0]!)).answer?.flags.some((f) => f.key === 'banner') === true);
  }, 60_000);
  afterAll(async () => {
    await platform?.stop();
    await redis?.stop();
  });

  it('announces a change on the streams of every instance, and the re-fetch it triggers answers the new value', async () => {
    const [first, second] = platform.evaluations;
    const streams = await Promise.all([openSse(await streamUrl(first!)), openSse(await streamUrl(second!))]);
    try {
      for (const stream of streams) {
        expect(stream.status).toBe(200);
        expect(stream.headers['content-type']).toContain('text/event-stream');
        // The first block only sets the reconnection delay and the last event id: no re-fetch for nothing.
        const opening = await stream.next(() => true, { from: 0 });
        expect(opening).toMatchObject({ retry: expect.any(Number) as number, id: expect.any(String) as string });
        expect(opening.data).toBeUndefined();
      }
      const before = await bulk(first!);
      const changedAt = Date.now();
      await toggle(true);
      const events = await Promise.all(streams.map((stream) => stream.next(isChange)));
      for (const event of events) {
        assertOfrepEvent(event);
        expect(event.event).toBe('message');
        expect(event.at - changedAt).toBeLessThan(1_000);
        const data = eventData(event);
        expect(data).toMatchObject({ type: 'refetchEvaluation', etag: `"${event.id}"` });
        expect(Math.abs(data.lastModified - changedAt / 1000)).toBeLessThan(5);
      }
      // Both instances name the change the same way: a client may carry the id from one to the other.
      expect(events[0]!.id).toBe(events[1]!.id);
      const refetch = await bulk(second!, {
        etag: before.etag,
        query: `?flagConfigEtag=${encodeURIComponent(eventData(events[0]!).etag)}&flagConfigLastModified=${eventData(events[0]!).lastModified}`,
      });
      expect(refetch.status).toBe(200);
      expect(refetch.answer.flags.find((f) => f.key === 'banner')?.value).toBe(true);
      // Nothing changed since: the same If-None-Match is a 304.
      expect((await bulk(second!, { etag: refetch.etag })).status).toBe(304);
    } finally {
      for (const stream of streams) stream.close();
    }
  });

  it('tells a client that comes back to another instance, with the last id it saw, of the change it missed', async () => {
    const [first, second] = platform.evaluations;
    const url = await streamUrl(first!);
    const stream = await openSse(url);
    const opening = await stream.next(() => true, { from: 0 });
    stream.close();
    // While it is away, the flag changes.
    await toggle(false);
    const elsewhere = url.replace(first!.url, second!.url);
    await until(async () => (await bulk(second!)).answer.flags.find((f) => f.key === 'banner')?.value === false);
    const back = await openSse(elsewhere, { 'last-event-id': opening.id! });
    try {
      const replayed = await back.next(isChange, { from: 0, timeoutMs: 1_000 });
      assertOfrepEvent(replayed);
      expect(eventData(replayed).type).toBe('refetchEvaluation');
      expect(replayed.id).not.toBe(opening.id);
      // Up to date: coming back with the current id brings no event.
      const current = await openSse(elsewhere, { 'last-event-id': replayed.id! });
      await current.next(() => true, { from: 0 });
      await new Promise((r) => setTimeout(r, 200));
      expect(current.blocks.filter(isChange)).toEqual([]);
      current.close();
    } finally {
      back.close();
    }
  });

  it('ends its streams when an instance stops, so clients reconnect elsewhere and hear what changed meanwhile', async () => {
    const leaving = await platform.startEvaluation();
    const staying = platform.evaluations[0]!;
    const url = await streamUrl(leaving);
    const stream = await openSse(url);
    const opening = await stream.next(() => true, { from: 0 });
    const stopped = platform.stopService(leaving);
    await stream.ended;
    await stopped;
    await toggle(true);
    const back = await openSse(url.replace(leaving.url, staying.url), { 'last-event-id': opening.id! });
    try {
      // Each event is re-fetched as the provider does: the one that follows the change (a replay if this instance
      // had it already, else the live event right after) brings the new value.
      let seen = 0;
      for (;;) {
        const event = await back.next(isChange, { from: seen, timeoutMs: 2_000 });
        seen = back.blocks.indexOf(event) + 1;
        const query = `?flagConfigEtag=${encodeURIComponent(eventData(event).etag)}`;
        if ((await bulk(staying, { query })).answer.flags.find((f) => f.key === 'banner')?.value === true) break;
      }
    } finally {
      back.close();
    }
  });

  it('stops promptly though a client (fetch, as browsers and Node have it) aborted its stream and left the connection open', async () => {
    const instance = await platform.startEvaluation();
    const controller = new AbortController();
    const response = await fetch(await streamUrl(instance), { signal: controller.signal });
    await response.body!.getReader().read();
    controller.abort();
    const started = Date.now();
    await platform.stopService(instance);
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it("closes a revoked key's streams at once, refuses its URL afterwards, and refuses a forged one", async () => {
    const created = await platform.call<{ id: string; key: string }>('POST', `${platform.urls.auth}/auth/api-keys`, {
      environment: 'production',
      name: 'storefront',
      kind: 'client',
    });
    expect(created.status).toBe(201);
    const instance = platform.evaluations[0]!;
    await until(
      async () =>
        (
          await fetch(`${instance.url}/ofrep/v1/evaluate/flags`, {
            method: 'POST',
            headers: { 'x-api-key': created.body.key, 'content-type': 'application/json' },
            body: '{}',
          })
        ).status === 200,
    );
    const url = await streamUrl(instance, created.body.key);
    const stream = await openSse(url);
    expect(stream.status).toBe(200);
    const revokedAt = Date.now();
    expect((await platform.call('DELETE', `${platform.urls.auth}/auth/api-keys/${created.body.id}`)).status).toBe(204);
    await stream.ended;
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
    expect((await openSse(url)).status).toBe(401);
    const token = new URL(url).searchParams.get('token')!;
    const forged = new URL(url);
    forged.searchParams.set(
      'token',
      token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
    );
    const refused = await openSse(forged.toString());
    expect(refused.status).toBe(401);
    expect(refused.headers['content-type']).toContain('application/problem+json');
  });
});
