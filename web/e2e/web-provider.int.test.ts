import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { until } from '../../shared/testing/until.ts';
import { startAllInOne, upstreamsFor, type AllInOne } from './harness.ts';
import {
  bundlePageScript,
  openWebProviderPage,
  startPageServer,
  wallClockMs,
  type PageServer,
  type WebProviderPage,
} from './web-provider-page/web-provider-page.ts';
import { chromiumForTests, launchChromium } from './chromium.ts';

/**
 * Issue 15's acceptance test: the official OpenFeature web SDK and OFREP web provider, unchanged, in Chromium, on a
 * page of another origin than the evaluation service (so CORS is really exercised), with a public client key. It
 * sees only the client-visible flag, and a toggle reaches it through the OFREP event stream, without polling.
 */
const haveChromium = chromiumForTests('web provider browser tests');

const portOffset = 1400;
const upstreams = upstreamsFor(portOffset);
// `localhost`, while the page is on 127.0.0.1: two origins, so every request of the provider is a CORS request.
const evaluationOrigin = `http://localhost:${new URL(upstreams.evaluation).port}`;
const environment = 'development';
const visibleFlag = 'web-checkout-banner';
const hiddenFlag = 'web-internal-tools';

interface Answer<T> {
  status: number;
  body: T;
}

describe.skipIf(!haveChromium)('the official OFREP web provider in a browser', () => {
  let dataDir: string;
  let platform: AllInOne;
  let adminToken: string;
  let clientKey: string;
  let pageServer: PageServer;
  let browser: Browser;

  async function api<T>(method: string, url: string, body?: unknown): Promise<Answer<T>> {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async function bulk(sdkKey: string): Promise<Answer<{ flags?: { key: string; value?: unknown }[]; eventStreams?: unknown[] }>> {
    const response = await fetch(`${upstreams.evaluation}/ofrep/v1/evaluate/flags`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': sdkKey },
      body: JSON.stringify({ context: { targetingKey: 'node-check' } }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as { flags?: { key: string; value?: unknown }[] }) : {} };
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'tm-web-provider-e2e-'));
    const [started, script] = await Promise.all([startAllInOne({ dataDir, portOffset }), bundlePageScript()]);
    platform = started;

    const login = await fetch(`${upstreams.auth}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(platform.admin),
    });
    expect(login.status).toBe(200);
    adminToken = ((await login.json()) as { accessToken: string }).accessToken;

    for (const [key, clientVisible] of [
      [visibleFlag, true],
      [hiddenFlag, undefined],
    ] as const) {
      const created = await api('POST', `${upstreams.flags}/flags`, {
        key,
        name: key,
        type: 'boolean',
        ...(clientVisible === undefined ? {} : { clientVisible }),
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const on = await api('PATCH', `${upstreams.flags}/flags/${key}/environments/${environment}`, { enabled: true });
      expect(on.status, JSON.stringify(on.body)).toBe(200);
    }
    const key = await api<{ key: string; kind?: string }>('POST', `${upstreams.auth}/auth/api-keys`, {
      environment,
      name: 'web page',
      kind: 'client',
    });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    clientKey = key.body.key;

    // A new key and new flags reach the evaluation service within a second or so: start once it serves them.
    const served = async (sdkKey: string, flagKey: string) =>
      (await bulk(sdkKey)).body.flags?.find((f) => f.key === flagKey)?.value === true;
    await until(() => served(clientKey, visibleFlag), { limitMs: 10_000, everyMs: 100 });
    await until(() => served(platform.sdkKey, hiddenFlag), { limitMs: 10_000, everyMs: 100 });

    pageServer = await startPageServer(
      { ofrepBaseUrl: evaluationOrigin, sdkKey: clientKey, flagKeys: [visibleFlag, hiddenFlag], targetingKey: 'web-user-1' },
      script,
    );
    browser = await launchChromium();
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await pageServer?.close();
    if (platform) expect(await platform.stop(), platform.output().slice(-4_000)).toBe(0);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('advertises an SSE event stream to a client key, and hides the flags that are not client-visible', async () => {
    const answer = await bulk(clientKey);
    expect(answer.status).toBe(200);
    expect(answer.body.eventStreams).toEqual([
      expect.objectContaining({ type: 'sse', endpoint: { requestUri: expect.stringMatching(/^\/ofrep\/v1\/event-stream\?/) as unknown } }),
    ]);
    expect(answer.body.flags?.map((f) => f.key)).not.toContain(hiddenFlag);
  });

  it('reads the client-visible flag, answers the hidden one with its default, and follows toggles through the event stream', async () => {
    let opened: WebProviderPage | undefined;
    try {
      opened = await openWebProviderPage(browser, pageServer.url, evaluationOrigin);
      const page = opened;
      const ready = await page.untilReady();
      expect(ready.readings[visibleFlag]).toMatchObject({ value: true, variant: 'on' });
      expect(ready.readings[hiddenFlag]).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' });
      expect(ready.changes).toEqual([]);
      expect(page.bulkRequests).toHaveLength(1);
      // The provider opened an EventSource on the stream the bulk answer advertised.
      await expect.poll(() => page.eventStreamRequests.length).toBe(1);
      expect(page.eventStreamRequests[0]!.resourceType).toBe('eventsource');

      const { offsetMs } = await page.clockOffset();
      for (const enabled of [false, true]) {
        const before = (await page.state()).changes.length;
        const toggled = await api('PATCH', `${upstreams.flags}/flags/${visibleFlag}/environments/${environment}`, { enabled });
        const answeredAt = wallClockMs();
        expect(toggled.status, JSON.stringify(toggled.body)).toBe(200);
        const state = await page.untilChangesExceed(before, 5_000);
        const change = state.changes[before]!;
        expect(change.flagsChanged).toContain(visibleFlag);
        expect(change.readings[visibleFlag]?.value).toBe(enabled);
        expect(state.readings[visibleFlag]).toMatchObject({ value: enabled, variant: enabled ? 'on' : 'off' });
        expect(state.readings[hiddenFlag]).toMatchObject({ value: false, errorCode: 'FLAG_NOT_FOUND' });
        // From the flags API's answer to the page's ConfigurationChanged handler.
        expect(change.at - offsetMs - answeredAt).toBeLessThan(2_000);
      }

      // No polling: a quiet while later, nothing more was fetched. Every fetch after the first came from a
      // stream event (the provider adds the event's etag as flagConfigEtag only then), with the ETag it was given.
      const fetched = page.bulkRequests.length;
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(page.bulkRequests).toHaveLength(fetched);
      expect(page.bulkRequests.length).toBeGreaterThanOrEqual(3);
      expect(page.bulkRequests[0]!.url.searchParams.has('flagConfigEtag')).toBe(false);
      for (const request of page.bulkRequests.slice(1)) {
        expect(request.url.searchParams.get('flagConfigEtag'), request.url.href).toBeTruthy();
        expect(request.headers['if-none-match'], 'the ETag must be readable across origins').toBeTruthy();
      }
      expect(page.eventStreamRequests).toHaveLength(1);

      // Cross-origin and allowed: the answers carry CORS headers, and the browser complained about nothing.
      const bulkAnswer = page.evaluationAnswers.find((a) => new URL(a.url).pathname === '/ofrep/v1/evaluate/flags');
      expect(bulkAnswer?.headers['access-control-allow-origin']).toMatch(new RegExp(`^(\\*|${pageServer.origin.replace(/\./g, '\\.')})$`));
      expect(page.problems.filter((p) => /cors|access-control/i.test(p))).toEqual([]);
      expect(page.problems).toEqual([]);
      expect((await page.state()).troubles).toEqual([]);
    } finally {
      await opened?.close();
    }
  }, 60_000);
});
