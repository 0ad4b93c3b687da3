/**
 * Browser: the official OpenFeature web SDK and OFREP web provider in Chromium (the page of the acceptance test,
 * web/e2e/web-provider-page), on an origin of its own, with a client key, against an evaluation instance that
 * admits that origin (CORS_ALLOWED_ORIGINS). 50 toggles of a client-visible flag through the flags API, one at a
 * time, each timed from the flags API's 2xx to the page's ConfigurationChanged handler (event stream → refetch of
 * the bulk evaluation → the provider's event).
 */
import { existsSync } from 'node:fs';
import { bundlePageScript, openWebProviderPage, startPageServer, wallClockMs } from '../web/e2e/web-provider-page/web-provider-page.ts';
import { chromiumPath, howToGetChromium, launchChromium } from '../web/e2e/chromium.ts';
import { fmt } from './lib/load.ts';
import { freePort, sleep } from './lib/processes.ts';
import { percentileOf, target } from './lib/report.ts';
import { expectStatus, type Togglemaster } from './lib/togglemaster.ts';

const flagKey = 'bench-browser';
const environment = 'production';

export interface BrowserResult {
  toggles: number;
  fromAnswer: { p50: number; p99: number; max: number };
  fromRequest: { p50: number; p99: number; max: number };
  /** Half the shortest round trip to the page: how well the page's clock was matched to the benchmark's. */
  clockUncertaintyMs: number;
  /** The page's requests to the bulk endpoint: the first, then one per stream event. */
  bulkRequests: number;
  met: boolean;
}

async function until(what: string, check: () => Promise<boolean>, limitMs = 15_000): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function runBrowser(tm: Togglemaster, toggles = Number(process.env.BENCH_BROWSER_TOGGLES ?? 50)): Promise<BrowserResult> {
  if (!existsSync(chromiumPath)) throw new Error(`the browser benchmark needs Chromium at ${chromiumPath}: ${howToGetChromium}`);
  expectStatus(
    'browser flag',
    await tm.api('POST', `${tm.flags.url}/flags`, { key: flagKey, name: 'Browser', type: 'boolean', clientVisible: true }),
    201,
  );
  expectStatus(
    'browser flag on',
    await tm.api('PATCH', `${tm.flags.url}/flags/${flagKey}/environments/${environment}`, { enabled: true }),
    200,
  );
  const key = await tm.api<{ key: string }>('POST', `${tm.auth.url}/auth/api-keys`, {
    environment,
    name: 'browser benchmark',
    kind: 'client',
  });
  expectStatus('client key', key, 201);

  const script = await bundlePageScript();
  const pagePort = await freePort();
  // An instance of its own that admits the page's origin, as a deployment serving a web application would be set.
  const evaluation = await tm.startRole('evaluation', {
    name: 'browser-evaluation',
    env: { CORS_ALLOWED_ORIGINS: `http://127.0.0.1:${pagePort}` },
  });
  const served = await startPageServer(
    { ofrepBaseUrl: evaluation.url, sdkKey: key.body.key, flagKeys: [flagKey], targetingKey: 'browser-1' },
    script,
    pagePort,
  );
  await until('the new instance to serve the flag to the client key', async () => {
    const response = await fetch(`${evaluation.url}/ofrep/v1/evaluate/flags`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': key.body.key },
      body: '{"context":{"targetingKey":"browser-1"}}',
    });
    const text = await response.text();
    return response.status === 200 && (JSON.parse(text) as { flags: { key: string }[] }).flags.some((f) => f.key === flagKey);
  });

  const browser = await launchChromium();
  try {
    const page = await openWebProviderPage(browser, served.url, new URL(evaluation.url).origin);
    const ready = await page.untilReady();
    if (ready.readings[flagKey]?.value !== true) throw new Error(`the page reads ${JSON.stringify(ready.readings[flagKey])}, not true`);
    await until('the page to open its event stream', async () => page.eventStreamRequests.length > 0);
    const clock = await page.clockOffset();

    const fromAnswer: number[] = [];
    const fromRequest: number[] = [];
    for (let i = 0; i < toggles; i++) {
      const enabled = i % 2 === 1;
      const before = (await page.state()).changes.length;
      const sent = wallClockMs();
      const answer = await tm.api('PATCH', `${tm.flags.url}/flags/${flagKey}/environments/${environment}`, { enabled });
      const answered = wallClockMs();
      expectStatus(`toggle ${i + 1}`, answer, 200);
      const state = await page.untilChangesExceed(before, 10_000);
      const change = state.changes[before]!;
      if (change.readings[flagKey]?.value !== enabled)
        throw new Error(`toggle ${i + 1}: the page read ${JSON.stringify(change.readings[flagKey])}, expected ${enabled}`);
      const seen = change.at - clock.offsetMs;
      fromAnswer.push(Math.max(0, seen - answered));
      fromRequest.push(seen - sent);
      // Toggles a random 20–170 ms apart (as the propagation benchmark's changes): no fixed phase against any timer.
      await sleep(20 + Math.random() * 150);
    }
    if (page.problems.length > 0) throw new Error(`the page reported problems:\n${page.problems.join('\n')}`);
    const troubles = (await page.state()).troubles;
    if (troubles.length > 0) throw new Error(`the provider emitted ${JSON.stringify(troubles)}`);
    const bulkRequests = page.bulkRequests.length;
    await page.close();

    const stats = (values: number[]) => ({ p50: percentileOf(values, 0.5), p99: percentileOf(values, 0.99), max: Math.max(...values) });
    const result: BrowserResult = {
      toggles,
      fromAnswer: stats(fromAnswer),
      fromRequest: stats(fromRequest),
      clockUncertaintyMs: clock.uncertaintyMs,
      bulkRequests,
      met: percentileOf(fromAnswer, 0.99) <= 500,
    };
    console.log(
      `  ${toggles} toggles (PATCH /flags/{key}/environments/{env}) until the page's ConfigurationChanged (web provider, SSE, Chromium):`,
    );
    console.log(
      `    from its 200 answer:   p50 ${fmt(result.fromAnswer.p50, 1)} ms   p99 ${fmt(result.fromAnswer.p99, 1)} ms   max ${fmt(result.fromAnswer.max, 1)} ms   (target p99 ≤ 500 ms: ${target(result.met)})`,
    );
    console.log(
      `    from the request:      p50 ${fmt(result.fromRequest.p50, 1)} ms   p99 ${fmt(result.fromRequest.p99, 1)} ms   max ${fmt(result.fromRequest.max, 1)} ms`,
    );
    console.log(
      `    the page's bulk requests: ${bulkRequests} (1 initial + ${bulkRequests - 1} after stream events, no polling); page clock matched within ±${fmt(clock.uncertaintyMs, 2)} ms`,
    );
    return result;
  } finally {
    await browser.close();
    await served.close();
    await evaluation.child.stop();
  }
}
