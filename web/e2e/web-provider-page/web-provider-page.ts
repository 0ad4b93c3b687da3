/**
 * The web provider's test page, for the acceptance test (web/e2e/web-provider.int.test.ts) and the browser
 * benchmark (bench/browser.bench.ts): page.ts bundled for the browser, served by a small HTTP server on an origin
 * of its own, and opened in Debian's Chromium (driven by playwright-core) with every request and console message
 * of the page recorded.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import type { PageConfig, PageGlobals, PageState } from './page-state.ts';

export const bulkPath = '/ofrep/v1/evaluate/flags';
export const eventStreamPath = '/ofrep/v1/event-stream';

/** Milliseconds on the wall clock with the sub-millisecond part; the page stamps its events the same way. */
export const wallClockMs = () => performance.timeOrigin + performance.now();

/** page.ts and the two OpenFeature packages as one ES module, built from the current sources (about a second). */
export async function bundlePageScript(): Promise<string> {
  const output = await build({
    configFile: false,
    logLevel: 'warn',
    root: fileURLToPath(new URL('.', import.meta.url)),
    // Library mode leaves process.env alone; a browser has none.
    define: { 'process.env.NODE_ENV': '"production"' },
    build: {
      write: false,
      emptyOutDir: false,
      minify: false,
      lib: { entry: fileURLToPath(new URL('page.ts', import.meta.url)), formats: ['es'], fileName: 'page' },
    },
  });
  const chunk = (Array.isArray(output) ? output : [output]).flatMap((o) => ('output' in o ? o.output : [])).find((o) => o.type === 'chunk');
  if (!chunk || chunk.type !== 'chunk') throw new Error('the page bundle has no script');
  return chunk.code;
}

export interface PageServer {
  /** The page's address, on 127.0.0.1: not the evaluation service's origin. */
  url: string;
  origin: string;
  close(): Promise<void>;
}

/** Serves the page on 127.0.0.1 (a free port, or `port`), with its config inlined. */
export async function startPageServer(config: PageConfig, script: string, port = 0): Promise<PageServer> {
  // JSON inside a script element: `<` escaped so no value can close the element.
  const inlined = JSON.stringify(config).replace(/</g, '\\u003c');
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>OFREP web provider</title>
    <link rel="icon" href="data:," />
    <script>globalThis.webProviderConfig = ${inlined};</script>
    <script type="module" src="/page.js"></script>
  </head>
  <body>
    <p>The OpenFeature web provider against ToggleMaster; the state is on globalThis.webProviderPage.</p>
  </body>
</html>
`;
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://page').pathname;
    if (path === '/' || path === '/index.html') response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    else if (path === '/page.js') response.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(script);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface RecordedRequest {
  /** When playwright reported it (the test's wall clock). */
  at: number;
  url: URL;
  method: string;
  headers: Record<string, string>;
  resourceType: string;
}

export interface WebProviderPage {
  context: BrowserContext;
  page: Page;
  /** The page's POSTs to the bulk evaluation endpoint, in order. */
  bulkRequests: RecordedRequest[];
  /** The page's requests to the event stream (EventSource). */
  eventStreamRequests: RecordedRequest[];
  /** The headers of every answer of the evaluation service the page received. */
  evaluationAnswers: { url: string; status: number; headers: Record<string, string> }[];
  /** Console messages of type error or warning, uncaught exceptions, and failed requests. */
  problems: string[];
  state(): Promise<PageState>;
  /** Waits until the provider is ready (or failed, then throws with its reason). */
  untilReady(timeoutMs?: number): Promise<PageState>;
  /** Waits until the page has seen more than `count` ConfigurationChanged events. */
  untilChangesExceed(count: number, timeoutMs?: number): Promise<PageState>;
  /**
   * What to subtract from a page time to get the test's wall clock: measured over round trips, the one with the
   * shortest round trip kept; `uncertaintyMs` is half of it.
   */
  clockOffset(): Promise<{ offsetMs: number; uncertaintyMs: number }>;
  close(): Promise<void>;
}

export async function openWebProviderPage(browser: Browser, pageUrl: string, evaluationOrigin: string): Promise<WebProviderPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const bulkRequests: RecordedRequest[] = [];
  const eventStreamRequests: RecordedRequest[] = [];
  const evaluationAnswers: WebProviderPage['evaluationAnswers'] = [];
  const problems: string[] = [];
  let closing = false;
  page.on('request', (request) => {
    const url = new URL(request.url());
    const recorded = { at: wallClockMs(), url, method: request.method(), headers: request.headers(), resourceType: request.resourceType() };
    if (url.origin !== evaluationOrigin) return;
    if (url.pathname === bulkPath && request.method() === 'POST') bulkRequests.push(recorded);
    else if (url.pathname === eventStreamPath) eventStreamRequests.push(recorded);
  });
  page.on('response', (response) => {
    if (new URL(response.url()).origin === evaluationOrigin)
      evaluationAnswers.push({ url: response.url(), status: response.status(), headers: response.headers() });
  });
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('requestfailed', (request) => {
    // The event stream is cut when the page closes: not a failure of the page.
    if (!closing) problems.push(`request failed: ${request.method()} ${request.url()} (${request.failure()?.errorText ?? '?'})`);
  });
  await page.goto(pageUrl);

  const state = () => page.evaluate(() => (globalThis as unknown as PageGlobals).webProviderPage);
  return {
    context,
    page,
    bulkRequests,
    eventStreamRequests,
    evaluationAnswers,
    problems,
    state,
    async untilReady(timeoutMs = 15_000) {
      await page.waitForFunction(
        () => {
          const current = (globalThis as unknown as Partial<PageGlobals>).webProviderPage;
          return current !== undefined && (current.ready || current.failure !== undefined);
        },
        undefined,
        { timeout: timeoutMs, polling: 10 },
      );
      const current = await state();
      if (!current.ready) throw new Error(`the web provider did not become ready: ${current.failure}\n${problems.join('\n')}`);
      return current;
    },
    async untilChangesExceed(count, timeoutMs = 5_000) {
      await page.waitForFunction((n) => (globalThis as unknown as PageGlobals).webProviderPage.changes.length > n, count, {
        timeout: timeoutMs,
        // Polling only decides when the test learns of it; the page stamps the event itself.
        polling: 5,
      });
      return state();
    },
    async clockOffset() {
      let best = { offsetMs: 0, uncertaintyMs: Infinity };
      for (let i = 0; i < 20; i++) {
        const sent = wallClockMs();
        const pageTime = await page.evaluate(() => performance.timeOrigin + performance.now());
        const received = wallClockMs();
        const halfTrip = (received - sent) / 2;
        if (halfTrip < best.uncertaintyMs) best = { offsetMs: pageTime - (sent + halfTrip), uncertaintyMs: halfTrip };
      }
      return best;
    },
    async close() {
      closing = true;
      await context.close();
    },
  };
}
