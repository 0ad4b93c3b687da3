import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumForTests, launchChromium } from './chromium.ts';
import { repoRoot, startAllInOne, consoleUrlFor, upstreamsFor, type AllInOne } from './harness.ts';
import { bundlePageScript, openWebProviderPage, startPageServer } from './web-provider-page/web-provider-page.ts';

/**
 * The console in a real browser (Debian's Chromium driven by playwright-core) against the all-in-one process and
 * the console server, as a person uses it: sign in, create a flag, target it, turn it on, see its evaluations.
 */
const haveChromium = chromiumForTests('console browser tests');

const portOffset = 1300;
const evaluationUrl = upstreamsFor(portOffset).evaluation;
const flagKey = 'e2e-checkout';

describe.skipIf(!haveChromium)('the console in a browser', () => {
  let dataDir: string;
  let platform: AllInOne;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    // Always from the current sources: a build takes a second or two.
    await promisify(execFile)(process.execPath, [join(repoRoot, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
      cwd: join(repoRoot, 'web'),
    });
    dataDir = await mkdtemp(join(tmpdir(), 'tm-console-e2e-'));
    // The webhooks test's receiver listens on loopback, where webhooks may not be sent unless the deployment opens it.
    const allowedNetworks = process.env.WEBHOOK_ALLOWED_NETWORKS;
    process.env.WEBHOOK_ALLOWED_NETWORKS = '127.0.0.1';
    try {
      platform = await startAllInOne({ dataDir, portOffset });
    } finally {
      if (allowedNetworks === undefined) delete process.env.WEBHOOK_ALLOWED_NETWORKS;
      else process.env.WEBHOOK_ALLOWED_NETWORKS = allowedNetworks;
    }
    base = `${consoleUrlFor(portOffset)}/console`;
    browser = await launchChromium();
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    if (platform) expect(await platform.stop(), platform.output().slice(-4_000)).toBe(0);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  /** A fresh browser profile that fails the test on any page error or refused resource (e.g. a CSP violation). */
  async function newPage(options: { timezoneId?: string } = {}): Promise<{ context: BrowserContext; page: Page; problems: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, ...options });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // A 401 or 4xx answer the page handles is logged by the browser as a failed resource: not a problem.
      if (message.type() === 'error' && !/status of 4\d\d/.test(message.text())) problems.push(`console: ${message.text()}`);
    });
    return { context, page, problems };
  }

  /** The API as the admin, for what another person does meanwhile. */
  async function asAdmin(): Promise<(method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<Response>> {
    const consoleUrl = consoleUrlFor(portOffset);
    const login = await fetch(`${consoleUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(platform.admin),
    });
    const { accessToken } = (await login.json()) as { accessToken: string };
    return (method, path, body, headers = {}) =>
      fetch(`${consoleUrl}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          authorization: `Bearer ${accessToken}`,
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
  }

  /** What a person types in a date-and-time field for the instant `ms`, in the time zone `timeZone`. */
  function localInput(ms: number, timeZone: string): string {
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat('en-GB', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
      })
        .formatToParts(new Date(ms))
        .map((part) => [part.type, part.value]),
    );
    return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  }

  /** An environment's release timeline ("What happened"): each event's sentence and who it is credited to, newest first. */
  async function whatHappened(page: Page, env: string): Promise<{ what: string[]; who: string[] }> {
    const list = page.getByTestId(`env-${env}-release-events`);
    return {
      what: await list.getByTestId('release-event-what').allTextContents(),
      who: await list.getByTestId('release-event-who').allTextContents(),
    };
  }

  async function signIn(page: Page, email: string, password: string): Promise<void> {
    await page.goto(`${base}/`);
    await page.getByTestId('signin-email').fill(email);
    await page.getByTestId('signin-password').fill(password);
    await page.getByTestId('signin-submit').click();
  }

  it('tells a person whose password is wrong, in words, and keeps them on the sign-in page', async () => {
    const { context, page, problems } = await newPage();
    try {
      await signIn(page, platform.admin.email, 'not-the-password');
      await expect.poll(() => page.getByTestId('error').textContent()).toContain('That email and password do not match an account.');
      expect(page.url()).toContain('/console/signin');
      expect(await page.getByTestId('flags-table').count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('lets an admin create a flag, target it with a split, turn it on, and watch its evaluations arrive', async () => {
    const { context, page, problems } = await newPage();
    try {
      await signIn(page, platform.admin.email, platform.admin.password);
      await page.getByTestId('flags-table').waitFor();
      await expect.poll(() => page.getByTestId('my-role').textContent()).toBe('admin');

      // Create: the value editors refuse a value of the wrong type before anything is sent.
      await page.getByTestId('new-flag').click();
      await page.getByTestId('flag-name').fill('E2E checkout');
      expect(await page.getByTestId('flag-key').inputValue()).toBe(flagKey);
      await page.getByTestId('flag-type').selectOption('number');
      await page.getByTestId('variant-0-value').fill('12abc');
      await expect.poll(() => page.getByTestId('variant-0').textContent()).toContain('is not a number');
      await page.getByTestId('flag-submit').click();
      await page.getByText('Some fields need attention').waitFor();
      expect(page.url()).toContain('/flags/new');
      await page.getByTestId('flag-type').selectOption('boolean');
      await page.getByTestId('flag-tags').fill('e2e checkout');
      expect(await page.getByTestId('flag-client-visible').isChecked()).toBe(false);
      await page.getByTestId('flag-submit').click();
      await page.getByTestId('flag-page').waitFor();
      expect(page.url()).toContain(`/console/flags/${flagKey}`);
      expect(await page.getByTestId('env-development-switch').getAttribute('aria-checked')).toBe('false');
      expect(await page.getByTestId('flag-client-visibility').textContent()).toBe('Server-side SDKs only');

      // Target it in development: country in BR/US gets a 50/50 split; the total is checked as it is typed.
      await page.getByTestId('tab-targeting').click();
      await page.getByTestId('add-rule').click();
      await page.getByTestId('rule-name').fill('Brazil and the US, split');
      await page.getByTestId('condition-0-attribute').fill('country');
      await page.getByTestId('condition-0-operator').selectOption('in');
      await page.getByTestId('condition-0-values').fill('BR\nUS');
      await page.getByTestId('rule-serve-mode-split').check();
      await page.getByTestId('rule-serve-weight-on').fill('50');
      await page.getByTestId('rule-serve-weight-off').fill('40');
      await expect.poll(() => page.getByTestId('rule-serve-total').textContent()).toBe('Total: 90% (must be 100%)');
      await page.getByTestId('rule-serve-weight-off').fill('50');
      await expect.poll(() => page.getByTestId('rule-serve-total').textContent()).toBe('Total: 100%');
      await page.getByTestId('rule-save').click();
      await expect.poll(() => page.getByTestId('rule-0-serve').textContent()).toBe('50% on · 50% off');

      // A second rule, then moved above the first with the keyboard (the drag handle's keyboard mode).
      await page.getByTestId('add-rule').click();
      await page.getByTestId('rule-name').fill('Staff');
      await page.getByTestId('condition-0-attribute').fill('email');
      await page.getByTestId('condition-0-operator').selectOption('ends_with');
      await page.getByTestId('condition-0-values').fill('@togglemaster.local');
      await page.getByTestId('rule-save').click();
      await expect.poll(() => page.getByTestId('rule-1-name').textContent()).toBe('Staff');
      const staffId = await page.getByTestId('rule-1').getAttribute('data-rule-id');
      const firstId = await page.getByTestId('rule-0').getAttribute('data-rule-id');
      const announcements = page.locator('[id^="DndLiveRegion"]');
      await page.getByTestId('rule-1-handle').focus();
      await page.keyboard.press('Space');
      await expect.poll(() => announcements.textContent()).toContain(`raggable item ${staffId}`);
      // The first arrow may come before the drop targets are measured; pressing again above the top rule is a no-op.
      await expect
        .poll(async () => {
          await page.keyboard.press('ArrowUp');
          return announcements.textContent();
        })
        .toContain(`was moved over droppable area ${firstId}`);
      await page.keyboard.press('Space');
      await expect.poll(() => page.getByTestId('rule-0-name').textContent()).toBe('Staff');
      await page.getByText('Rule order saved.').waitFor();
      await page.reload();
      // (A reload can take longer than a poll's second on a busy machine: wait for the rules first.)
      await page.getByTestId('rule-1').waitFor();
      await expect.poll(() => page.getByTestId('rule-0-name').textContent()).toBe('Staff');
      await expect.poll(() => page.getByTestId('rule-1-name').textContent()).toBe('Brazil and the US, split');

      // On in development (no confirmation); production asks first, and cancelling changes nothing.
      await page.getByTestId('tab-environments').click();
      await page.getByTestId('env-production-switch').click();
      await page.getByTestId('confirm-dialog').getByText(`Turn on ${flagKey} in production?`).waitFor();
      await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Cancel' }).click();
      expect(await page.getByTestId('env-production-switch').getAttribute('aria-checked')).toBe('false');
      await page.getByTestId('env-development-switch').click();
      await expect.poll(() => page.getByTestId('env-development-switch').getAttribute('aria-checked')).toBe('true');

      // Evaluate through the API with the printed SDK key, as an application would.
      let calls = 0;
      const evaluate = async (targetingKey: string) => {
        calls++;
        const response = await fetch(`${evaluationUrl}/evaluate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': platform.sdkKey },
          body: JSON.stringify({ flagKey, context: { targetingKey, country: 'BR' } }),
        });
        return (await response.json()) as { reason?: string; variant?: string };
      };
      // The change reaches the evaluation service within a second; wait for it before counting.
      await expect.poll(async () => (await evaluate('warm-up')).reason, { timeout: 10_000 }).toBe('SPLIT');
      const served: Record<string, number> = {};
      for (let i = 0; i < 24; i++) {
        const result = await evaluate(`user-${i}`);
        expect(result.reason).toBe('SPLIT');
        served[result.variant!] = (served[result.variant!] ?? 0) + 1;
      }
      const expected = calls; // every call is counted, the warm-ups too
      // …and once through the console's own origin, which proxies /evaluate like the production Ingress.
      const proxied = await page.evaluate(
        async ([key, sdkKey]) => {
          const response = await fetch('/evaluate', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': sdkKey! },
            body: JSON.stringify({ flagKey: key, context: { targetingKey: 'proxied', country: 'US' } }),
          });
          return ((await response.json()) as { reason: string }).reason;
        },
        [flagKey, platform.sdkKey],
      );
      expect(proxied).toBe('SPLIT');

      // The analytics page refreshes on its own: the counts appear without a reload.
      await page.getByTestId('tab-analytics').click();
      await page.getByTestId('analytics-chart').waitFor();
      await expect
        .poll(async () => Number((await page.getByTestId('analytics-total').textContent())?.replace(/\D/g, '')), {
          timeout: 30_000,
          interval: 500,
        })
        .toBe(expected + 1);
      const onCount = Number((await page.getByTestId('analytics-total-on').locator('.total-value').textContent())?.replace(/\D/g, ''));
      const offCount = Number((await page.getByTestId('analytics-total-off').locator('.total-value').textContent())?.replace(/\D/g, ''));
      expect(onCount + offCount).toBe(expected + 1);
      expect(onCount).toBeGreaterThan(0);
      expect(offCount).toBeGreaterThan(0);
      expect(await page.locator('.recharts-bar-rectangle').count()).toBeGreaterThan(0);
      await expect.poll(() => page.getByTestId('analytics-events').locator('tbody tr').count()).toBeGreaterThan(0);

      // The history has the changes made above, newest first, in words.
      await page.getByTestId('tab-history').click();
      await page.getByTestId('history-entry').first().waitFor();
      const titles = await page.getByTestId('history-entry').locator('.history-head strong').allTextContents();
      expect(titles).toEqual(
        expect.arrayContaining([
          'Changed development',
          'Reordered the rules in development',
          'Added rule “Staff” in development',
          'Added rule “Brazil and the US, split” in development',
          'Created the flag',
        ]),
      );
      expect(titles.at(-1)).toBe('Created the flag');

      // The playground explains the answer for a context.
      await page.getByTestId('tab-playground').click();
      await page.getByTestId('playground-context').fill('{"targetingKey": "ana", "email": "ana@togglemaster.local"}');
      await page.getByTestId('playground-evaluate').click();
      await expect.poll(() => page.getByTestId('result-reason').textContent()).toBe('TARGETING_MATCH');
      expect(await page.getByTestId('result-variant').textContent()).toBe('on');
      await page.getByTestId('playground-context').fill('{"targetingKey": 42');
      await expect.poll(() => page.getByTestId('playground').getByRole('alert').first().textContent()).toContain('Not valid JSON');
      expect(await page.getByTestId('playground-evaluate').isDisabled()).toBe(true);

      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 150_000);

  it('gives an admin a client key with the code for a web page, and makes a flag available to client-side SDKs', async () => {
    const consoleUrl = consoleUrlFor(portOffset);
    const webFlag = 'e2e-web-banner';
    // The flag exists already (made through the API, as another person would have): this test is about exposing it.
    const { accessToken } = (await (
      await fetch(`${consoleUrl}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(platform.admin),
      })
    ).json()) as { accessToken: string };
    const asAdmin = (method: string, path: string, body: unknown) =>
      fetch(`${consoleUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
        body: JSON.stringify(body),
      });
    expect((await asAdmin('POST', '/flags', { key: webFlag, name: 'E2E web banner', type: 'boolean' })).status).toBe(201);

    const { context, page, problems } = await newPage();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: consoleUrl });
    try {
      await signIn(page, platform.admin.email, platform.admin.password);
      await page.getByTestId('flags-table').waitFor();

      // A client key: the kind is chosen on creation, and the answer comes with the code for a web page.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).click();
      await page.getByTestId('api-keys-table').waitFor();
      expect(await page.getByTestId('api-key-kind-server').isChecked()).toBe(true);
      await page.getByTestId('api-key-name').fill('storefront-web');
      await page.getByTestId('api-key-environment').selectOption('development');
      await page.getByTestId('api-key-kind-client').check();
      await page.getByTestId('api-key-create').click();
      await page.getByTestId('new-api-key').waitFor();
      expect(await page.getByTestId('new-api-key').locator('h2').textContent()).toBe('Client key “storefront-web” for development');
      const clientKey = await page.getByTestId('new-api-key-value').inputValue();
      expect(clientKey).not.toBe('');
      const snippet = (await page.getByTestId('web-snippet').textContent()) ?? '';
      expect(snippet).toContain("import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';");
      expect(snippet).toContain("import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';");
      expect(snippet).toContain(`new OFREPWebProvider({ baseUrl: '${consoleUrl}', headers: [['X-API-Key', '${clientKey}']] })`);
      expect(snippet).toContain('client.addHandler(ProviderEvents.ConfigurationChanged');
      await page.getByTestId('copy-web-snippet').click();
      await expect.poll(() => page.getByTestId('copy-web-snippet').textContent()).toBe('Copied');
      // (A string, as the test's types have no DOM.)
      expect(await page.evaluate('navigator.clipboard.readText()')).toBe(snippet);
      // The list says which key is which.
      await page.getByTestId('api-key-row-storefront-web').waitFor();
      expect(await page.getByTestId('api-key-kind-of-storefront-web').textContent()).toBe('client');
      expect(await page.getByTestId('api-key-kind-of-all-in-one demo').textContent()).toBe('server');

      // What a page gets at the snippet's baseUrl: the bulk evaluation through the console's origin.
      const bulkKeys = (sdkKey: string) =>
        page.evaluate(async (key) => {
          const response = await fetch('/ofrep/v1/evaluate/flags', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': key },
            body: JSON.stringify({ context: { targetingKey: 'visitor-1' } }),
          });
          return response.ok
            ? ((await response.json()) as { flags: { key: string }[] }).flags.map((f) => f.key)
            : [`HTTP ${response.status}`];
        }, sdkKey);
      // Once the evaluation service has the flag (a server key gets it), the client key still does not: it is not client-visible.
      await expect.poll(() => bulkKeys(platform.sdkKey), { timeout: 10_000 }).toContain(webFlag);
      await expect.poll(() => bulkKeys(clientKey), { timeout: 10_000 }).not.toContainEqual(expect.stringMatching(/^HTTP /));
      expect(await bulkKeys(clientKey)).not.toContain(webFlag);

      // Mark it client-visible, with the definition. Someone else changes the flag first: the console says so.
      await page.goto(`${base}/flags/${webFlag}`);
      await page.getByTestId('flag-page').waitFor();
      expect(await page.getByTestId('flag-client-visibility').textContent()).toBe('Server-side SDKs only');
      await page.getByTestId('edit-flag').click();
      expect(await page.getByTestId('flag-client-visible').isChecked()).toBe(false);
      await page.getByTestId('flag-client-visible').check();
      expect((await asAdmin('PATCH', `/flags/${webFlag}/environments/development`, { enabled: true })).status).toBe(200);
      await page.getByTestId('flag-submit').click();
      await page.getByTestId('flag-form').getByTestId('error').waitFor();
      expect(await page.getByTestId('flag-form').getByTestId('error').textContent()).toContain('Someone else changed this');
      await page.reload();
      await page.getByTestId('flag-page').waitFor();
      expect(await page.getByTestId('flag-client-visibility').textContent()).toBe('Server-side SDKs only');
      await page.getByTestId('edit-flag').click();
      await page.getByTestId('flag-client-visible').check();
      await page.getByTestId('flag-submit').click();
      await page.getByText('Flag definition saved: client-side SDKs may now evaluate it.').waitFor();
      await page.reload();
      await page.getByTestId('flag-page').waitFor();
      expect(await page.getByTestId('flag-client-visibility').textContent()).toBe('Available to client-side SDKs');
      await page.getByTestId('tab-history').click();
      await page.getByTestId('history-entry').first().waitFor();
      expect(await page.getByTestId('history-entry').first().locator('.history-head strong').textContent()).toBe(
        'Made it available to client-side SDKs',
      );

      // The list marks it; the page with the client key now gets it.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Flags' }).click();
      await page.getByTestId(`flag-row-${webFlag}`).waitFor();
      expect(await page.getByTestId(`flag-${webFlag}-client`).textContent()).toBe('client-side');
      expect(await page.getByTestId(`flag-${flagKey}-client`).count()).toBe(0);
      await expect.poll(() => bulkKeys(clientKey), { timeout: 10_000 }).toContain(webFlag);

      // The snippet, run: the official web provider on a page of another origin, with the console's origin as its
      // baseUrl and the client key. It reads the flag, and a toggle in the console reaches it through the event stream.
      const pageServer = await startPageServer(
        { ofrepBaseUrl: consoleUrl, sdkKey: clientKey, flagKeys: [webFlag], targetingKey: 'visitor-1' },
        await bundlePageScript(),
      );
      const web = await openWebProviderPage(browser, pageServer.url, consoleUrl);
      try {
        expect((await web.untilReady()).readings[webFlag]).toMatchObject({ value: true, variant: 'on' });
        await page.goto(`${base}/flags/${webFlag}`);
        await page.getByTestId('env-development-switch').click();
        await expect.poll(() => page.getByTestId('env-development-switch').getAttribute('aria-checked')).toBe('false');
        const changed = await web.untilChangesExceed(0, 10_000);
        expect(changed.changes.flatMap((c) => c.flagsChanged)).toContain(webFlag);
        expect(changed.readings[webFlag]).toMatchObject({ value: false, variant: 'off' });
        expect(web.eventStreamRequests.length).toBeGreaterThan(0);
        expect(web.problems).toEqual([]);
      } finally {
        await web.close();
        await pageServer.close();
      }
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('lets an editor schedule a kill switch in their own time zone, watch it applied, and move and cancel another', async () => {
    const scheduledFlag = 'e2e-scheduled';
    const admin = await asAdmin();
    const created = await admin('POST', '/flags', {
      key: scheduledFlag,
      name: 'E2E scheduled',
      type: 'boolean',
      environments: { development: { enabled: true } },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const schedulesOf = async () =>
      (
        (await (await admin('GET', `/flags/${scheduledFlag}/schedules`)).json()) as {
          items: { runAt: string; status: string; version: number }[];
        }
      ).items;
    // A browser in São Paulo (UTC−03:00, no daylight saving time): times are typed and shown there, and sent in UTC.
    const timeZone = 'America/Sao_Paulo';
    const { context, page, problems } = await newPage({ timezoneId: timeZone });
    try {
      await signIn(page, platform.admin.email, platform.admin.password);
      await page.getByTestId('flags-table').waitFor();
      await page.goto(`${base}/flags/${scheduledFlag}`);
      await page.getByTestId('env-development-schedules').waitFor();
      expect(await page.getByTestId('env-development-switch').getAttribute('aria-checked')).toBe('true');
      await page.getByTestId('env-development-nothing-scheduled').waitFor();

      // The kill switch, a few seconds ahead: "Turn it off" is what an enabled flag's form proposes first.
      await page.getByTestId('env-development-schedule').click();
      const form = page.getByTestId('env-development-schedule-form');
      await form.waitFor();
      expect(await form.textContent()).toContain(`When, in your time zone, ${timeZone} (UTC−03:00)`);
      expect(await page.getByTestId('env-development-schedule-kind').inputValue()).toBe('off');
      const runAt = Math.ceil((Date.now() + 8_000) / 1000) * 1000;
      await page.getByTestId('env-development-schedule-at').fill(localInput(runAt, timeZone));
      await expect
        .poll(() => page.getByTestId('env-development-schedule-preview').textContent())
        .toContain('Turn it off in development on');
      expect(await form.textContent()).toContain(`${new Date(runAt).toISOString().slice(0, 19).replace('T', ' ')} UTC`);
      await page.getByTestId('env-development-schedule-submit').click();

      // Pending: what, when (counting down, and the date in São Paulo time), by whom.
      const pending = page.getByTestId('env-development-pending').getByTestId('scheduled-change');
      await pending.first().waitFor();
      expect(await pending.count()).toBe(1);
      expect(await pending.locator('.schedule-what').textContent()).toBe('Turn it off');
      expect(await pending.getByTestId('schedule-relative').textContent()).toMatch(/^in \d s$/);
      expect(await pending.getByTestId('schedule-at').textContent()).toMatch(/GMT-3/);
      expect(await pending.locator('.schedule-by').textContent()).toBe(`by ${platform.admin.email}`);
      const [planned] = await schedulesOf();
      expect(planned).toMatchObject({ runAt: new Date(runAt).toISOString(), status: 'pending' });

      // Applied by the release worker at its time: the page sees it on its own, no reload.
      await expect
        .poll(() => page.getByTestId('env-development-switch').getAttribute('aria-checked'), { timeout: 20_000, interval: 250 })
        .toBe('false');
      const finished = page.getByTestId('env-development-finished').getByTestId('scheduled-change');
      await expect.poll(() => finished.first().getAttribute('data-status')).toBe('applied');
      expect(await finished.first().getByTestId('schedule-status').textContent()).toBe('Applied');
      expect(await page.getByTestId('env-development-pending').count()).toBe(0);
      expect(Date.now()).toBeGreaterThanOrEqual(runAt);

      // Another one, for later (the form's own suggestion, an hour or so ahead): serve a split from then.
      await page.getByTestId('env-development-schedule').click();
      await page.getByTestId('env-development-schedule-kind').selectOption('serve');
      await page.getByTestId('env-development-schedule-serve-mode-split').check();
      await page.getByTestId('env-development-schedule-serve-weight-on').fill('25');
      await page.getByTestId('env-development-schedule-serve-weight-off').fill('75');
      await page.getByTestId('env-development-schedule-submit').click();
      await expect.poll(() => pending.locator('.schedule-what').textContent()).toBe('Serve 25% on · 75% off when no rule matches');

      // Moved to tomorrow, same place in the list, sent in UTC.
      const tomorrow = Math.ceil((Date.now() + 24 * 3600_000) / 60_000) * 60_000;
      await pending.getByTestId('schedule-move').click();
      await pending.getByTestId('schedule-move-at').fill(localInput(tomorrow, timeZone));
      await pending.getByTestId('schedule-move-save').click();
      await page.getByText('Moved to').waitFor();
      await expect
        .poll(async () => (await schedulesOf()).find((s) => s.status === 'pending'))
        .toMatchObject({
          runAt: new Date(tomorrow).toISOString(),
          version: 2,
        });
      expect(await pending.getByTestId('schedule-relative').textContent()).toMatch(/^in 2[34] h( \d+ min)?$/);

      // …then cancelled: it leaves the pending list and is listed as cancelled, by whom.
      await pending.getByTestId('schedule-cancel').click();
      await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Cancel the change' }).click();
      await expect.poll(() => page.getByTestId('env-development-pending').count()).toBe(0);
      await expect.poll(() => finished.first().getAttribute('data-status')).toBe('cancelled');
      expect(await finished.first().getByTestId('schedule-outcome').textContent()).toBe(`Cancelled by ${platform.admin.email}`);
      expect(await finished.nth(1).getAttribute('data-status')).toBe('applied');
      expect((await schedulesOf()).map((s) => s.status).sort()).toEqual(['applied', 'cancelled']);
      // The release panel's timeline has both runs, with what each changed.
      await expect
        .poll(() => whatHappened(page, 'development'), { timeout: 5_000 })
        .toEqual({
          what: ['Scheduled change (serve 25% on · 75% off when no rule matches) cancelled', 'Scheduled change (turn it off) applied'],
          who: [`by ${platform.admin.email}`, `by ${platform.admin.email}`],
        });

      // The history names the scheduled change and its author.
      await page.getByTestId('tab-history').click();
      await page.getByTestId('history-entry').first().waitFor();
      const latest = page.getByTestId('history-entry').first();
      expect(await latest.locator('.history-head strong').textContent()).toBe('Changed development');
      expect(await latest.getByTestId('history-cause').textContent()).toBe(`Scheduled by ${platform.admin.email}`);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('lets an editor release a flag by milestones the release worker applies on its own, and pause, resume and roll back another; a viewer sees it without actions', async () => {
    const rampFlag = 'e2e-ramp';
    const heldFlag = 'e2e-held-release';
    const admin = await asAdmin();
    for (const key of [rampFlag, heldFlag]) {
      const created = await admin('POST', '/flags', {
        key,
        name: key,
        type: 'boolean',
        environments: { production: { enabled: true, defaultServe: { variant: 'off' } } },
      });
      expect(created.status, await created.clone().text()).toBe(201);
    }
    const plansOf = async (key: string) =>
      (
        (await (await admin('GET', `/flags/${key}/release-plans`)).json()) as {
          items: { status: string; step: number; outcome: string | null }[];
        }
      ).items;
    const viewerEmail = 'release-viewer-e2e@example.com';
    const viewerPassword = 'a-long-release-viewer-password';
    const registered = await fetch(`${consoleUrlFor(portOffset)}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: viewerEmail, password: viewerPassword }),
    });
    expect(registered.status).toBe(202);

    const { context, page, problems } = await newPage();
    try {
      await signIn(page, platform.admin.email, platform.admin.password);
      await page.getByTestId('flags-table').waitFor();
      await page.goto(`${base}/flags/${rampFlag}`);
      await page.getByTestId('env-production-release-none').waitFor();
      const summary = page.getByTestId('env-production-summary');
      expect(await summary.textContent()).toContain('Serving off when no rule matches.');

      // The form proposes 1 % → 10 % → 50 % → 100 % of "on"; this release keeps three, each held a second (the API's minimum).
      await page.getByTestId('env-production-release-start').click();
      const preview = page.getByTestId('env-production-release-preview');
      expect(await preview.textContent()).toBe('“on” 1% for 1 h → 10% for 4 h → 50% for 8 h → 100% for 1 h in production.');
      await page.getByTestId('env-production-release-m2-remove').click();
      for (const i of [0, 1, 2]) {
        await page.getByTestId(`env-production-release-m${i}-hold`).fill('1');
        await page.getByTestId(`env-production-release-m${i}-unit`).selectOption('seconds');
      }
      await expect.poll(() => preview.textContent()).toBe('“on” 1% for 1 s → 10% for 1 s → 100% for 1 s in production.');
      // Saved as a template, to start the same release elsewhere.
      await page.getByTestId('env-production-release-template-name').fill('e2e three seconds');
      await page.getByTestId('env-production-release-template-save').click();
      await page.getByText('Saved the template “e2e three seconds”.').waitFor();
      await page.getByTestId('env-production-release-submit').click();
      await page.getByText('Release started in production: “on” 1% → 10% → 100%.').waitFor();

      // The release worker applies the next milestones on their own; the card follows them, with no reload.
      await expect.poll(() => summary.textContent(), { timeout: 20_000, interval: 250 }).toBe('Serving on when no rule matches. Rules');
      const finished = page.getByTestId('env-production-release-finished').getByTestId('finished-plan');
      await expect.poll(() => finished.first().getAttribute('data-status'), { timeout: 10_000 }).toBe('completed');
      expect(await finished.first().getByTestId('plan-end').textContent()).toBe('Completed: serves “on”.');
      expect(await finished.first().getByTestId('plan-status').textContent()).toBe('Completed');
      expect(await page.getByTestId('release-plan').count()).toBe(0);
      expect(await plansOf(rampFlag)).toMatchObject([{ status: 'completed', step: 2 }]);
      // What happened, newest first: each milestone with what it served, the end by the release worker on its own.
      await expect
        .poll(() => whatHappened(page, 'production'), { timeout: 5_000 })
        .toEqual({
          what: [
            'Release completed: serves “on”',
            'Milestone 3 of 3 applied — 100% on',
            'Milestone 2 of 3 applied — 10% on',
            'Milestone 1 of 3 applied — 1% on',
            'Release started: “on” 1% → 10% → 100%',
          ],
          who: ['by the release worker', ...Array.from({ length: 4 }, () => `by ${platform.admin.email}`)],
        });
      // When, relative, with the exact time on hover.
      const latestEvent = page.getByTestId('env-production-release-events').getByTestId('release-event').first();
      expect(await latestEvent.locator('time').textContent()).toBe('just now');
      expect(await latestEvent.locator('time').getAttribute('title')).toMatch(/\d{4}/);

      // Each milestone is in the history, as the plan's step, by its author.
      await page.getByTestId('tab-history').click();
      await page.getByTestId('history-entry').first().waitFor();
      const causes = await page.getByTestId('history-cause').allTextContents();
      expect(causes).toEqual([3, 2, 1].map((n) => `Release plan step ${n} by ${platform.admin.email}`));

      // Another flag: the preset as it is (an hour on 1 %), the saved template on offer.
      await page.goto(`${base}/flags/${heldFlag}`);
      await page.getByTestId('env-production-release-start').click();
      expect(await page.getByTestId('env-production-release-template').locator('option').allTextContents()).toContain(
        'Template “e2e three seconds”: “on” 1% → 10% → 100%',
      );
      await page.getByTestId('env-production-release-submit').click();
      const plan = page.getByTestId('release-plan');
      await plan.waitFor();
      await expect.poll(() => page.getByTestId('env-production-summary').textContent()).toContain('Serving 1% on · 99% off');
      expect(await plan.getByTestId('plan-status').textContent()).toBe('Running');
      expect(await plan.getByTestId('plan-serve').textContent()).toBe('Serving 1% on · 99% off when no rule matches.');
      expect(await plan.getByTestId('plan-next').textContent()).toMatch(/^Next milestone in (1 h|60 min|59 min): 10% on · 90% off\.$/);
      expect(await plan.getByTestId('plan-milestone-state').allTextContents()).toEqual([
        'now',
        expect.stringMatching(/^next, in /),
        'later',
        'later',
      ]);
      expect(await plan.getByTestId('plan-by').textContent()).toContain(`Started by ${platform.admin.email}`);

      // Paused: the milestone keeps its time left, and the card says why it stands still.
      await plan.getByTestId('plan-pause').click();
      await expect.poll(() => plan.getByTestId('plan-status').textContent()).toBe('Paused');
      expect(await plan.getByTestId('plan-outcome').textContent()).toBe(`Paused by ${platform.admin.email}.`);
      expect(await plan.getByTestId('plan-next').textContent()).toMatch(
        /^Paused with (1 h|59 min( \d+ s)?) left before the next milestone\.$/,
      );
      expect(await plan.getByTestId('plan-pause').count()).toBe(0);
      await plan.getByTestId('plan-resume').click();
      await expect.poll(() => plan.getByTestId('plan-status').textContent()).toBe('Running');
      expect(await plan.getByTestId('plan-outcome').count()).toBe(0);
      expect(await plansOf(heldFlag)).toMatchObject([{ status: 'active', step: 0 }]);
      const heldHistory = [
        'Resumed at milestone 1 of 4',
        'Paused at milestone 1 of 4',
        'Milestone 1 of 4 applied — 1% on',
        'Release started: “on” 1% → 10% → 50% → 100%',
      ];
      await expect.poll(async () => (await whatHappened(page, 'production')).what, { timeout: 5_000 }).toEqual(heldHistory);

      // A viewer sees the running release as it is, with nothing to press.
      const viewer = await newPage();
      try {
        await signIn(viewer.page, viewerEmail, viewerPassword);
        await viewer.page.getByTestId('flags-table').waitFor();
        await viewer.page.goto(`${base}/flags/${heldFlag}`);
        const seen = viewer.page.getByTestId('release-plan');
        await seen.waitFor();
        expect(await seen.getByTestId('plan-status').textContent()).toBe('Running');
        expect(await seen.getByTestId('plan-serve').textContent()).toBe('Serving 1% on · 99% off when no rule matches.');
        expect(await seen.getByTestId('plan-milestone').count()).toBe(4);
        await expect.poll(async () => (await whatHappened(viewer.page, 'production')).what).toEqual(heldHistory);
        for (const id of [
          'plan-pause',
          'plan-resume',
          'plan-approve',
          'plan-rollback',
          'env-production-release-start',
          'env-development-release-start',
        ])
          expect(await viewer.page.getByTestId(id).count(), id).toBe(0);
        expect(viewer.problems).toEqual([]);
      } finally {
        await viewer.context.close();
      }

      // Rolled back, after a confirmation that says what it will serve: what it served before the plan.
      await plan.getByTestId('plan-rollback').click();
      const dialog = plan.getByTestId('confirm-dialog');
      expect(await dialog.getByTestId('plan-rollback-what').textContent()).toBe('Serve what it served before the plan: “off”.');
      await dialog.getByRole('button', { name: 'Roll back' }).click();
      await expect.poll(() => page.getByTestId('env-production-summary').textContent()).toContain('Serving off when no rule matches.');
      const ended = page.getByTestId('env-production-release-finished').getByTestId('finished-plan');
      await expect.poll(() => ended.first().getAttribute('data-status')).toBe('rolled-back');
      expect(await ended.first().getByTestId('plan-end').textContent()).toBe(
        `Rolled back at milestone 1 of 4: serves “off” again. Rolled back by ${platform.admin.email}.`,
      );
      expect(await page.getByTestId('release-plan').count()).toBe(0);
      await page.getByTestId('env-production-release-none').waitFor();
      expect(await plansOf(heldFlag)).toMatchObject([{ status: 'rolled-back', outcome: `rolled back by ${platform.admin.email}` }]);
      await expect
        .poll(() => whatHappened(page, 'production'), { timeout: 5_000 })
        .toEqual({
          what: ['Rolled back at milestone 1 of 4: serves “off” again', ...heldHistory],
          who: Array.from({ length: 5 }, () => `by ${platform.admin.email}`),
        });

      await page.getByTestId('tab-history').click();
      await page.getByTestId('history-entry').first().waitFor();
      expect(await page.getByTestId('history-cause').first().textContent()).toBe(`Release plan rolled back by ${platform.admin.email}`);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('lets an editor guard a release with a metric: judged as events arrive, charted, and rolled back on its own on a breach', async () => {
    const guardedFlag = 'e2e-guarded-release';
    const metric = 'e2e.checkout-error';
    const admin = await asAdmin();
    const created = await admin('POST', '/flags', {
      key: guardedFlag,
      name: guardedFlag,
      type: 'boolean',
      environments: { development: { enabled: true, defaultServe: { variant: 'off' } } },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    // Metric events as an application sends them (OpenFeature tracking) with the printed SDK key (development's).
    const track = (events: { variant: string; value: number }[]) =>
      fetch(`${evaluationUrl}/events/v1/track`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': platform.sdkKey },
        body: JSON.stringify({ events: events.map((e) => ({ name: metric, flagKey: guardedFlag, ...e })) }),
      });
    // n events of a 0/1 metric, `ones` of them 1.
    const rate = (variant: string, n: number, ones: number) => Array.from({ length: n }, (_, i) => ({ variant, value: i < ones ? 1 : 0 }));

    const { context, page, problems } = await newPage();
    try {
      await signIn(page, platform.admin.email, platform.admin.password);
      await page.getByTestId('flags-table').waitFor();
      await page.goto(`${base}/flags/${guardedFlag}`);
      await page.getByTestId('env-development-release-none').waitFor();
      await page.getByTestId('env-development-release-start').click();

      // A guardrail starts comparing the variant the milestones ramp toward with what the environment serves now.
      await page.getByTestId('env-development-release-guardrail-add').click();
      const guardrail = page.getByTestId('env-development-release-g0');
      expect(await guardrail.getByTestId('env-development-release-g0-treatment').inputValue()).toBe('on');
      expect(await guardrail.getByTestId('env-development-release-g0-control').inputValue()).toBe('off');
      expect(await guardrail.getByTestId('env-development-release-g0-alpha').inputValue()).toBe('0.05');
      // Checked as the API checks it, said next to the field.
      await guardrail.getByTestId('env-development-release-g0-metric').fill('checkout error');
      await guardrail.getByTestId('env-development-release-g0-max').fill('-1');
      await page.getByTestId('env-development-release-submit').click();
      expect(await guardrail.locator('.field-error').allTextContents()).toEqual([
        'Letters, digits and _ . : - only, starting with a letter or a digit (like checkout.error or latency_ms)',
        'At least 0',
      ]);
      expect(await page.getByTestId('env-development-release-guardrails-invalid').textContent()).toBe(
        'Correct the guardrails above, or remove them, to start the release.',
      );
      expect(await page.getByTestId('release-plan').count()).toBe(0);
      await guardrail.getByTestId('env-development-release-g0-metric').fill(metric);
      await guardrail.getByTestId('env-development-release-g0-max').fill('0.05');
      expect(await guardrail.locator('.field-error').count()).toBe(0);
      expect(await page.getByTestId('env-development-release-preview').textContent()).toBe(
        `“on” 1% for 1 h → 10% for 4 h → 50% for 8 h → 100% for 1 h in development, rolled back if ${metric} gets worse.`,
      );
      await page.getByTestId('env-development-release-submit').click();
      await page.getByText(`Release started in development: “on” 1% → 10% → 50% → 100%, guarded by ${metric}.`).waitFor();
      const plans = (
        (await (await admin('GET', `/flags/${guardedFlag}/release-plans`)).json()) as {
          items: { guardrails: unknown[] }[];
        }
      ).items;
      expect(plans[0]?.guardrails).toEqual([
        { metric, treatment: 'on', control: 'off', worseWhen: 'higher', maxDifference: 0.05, alpha: 0.05, minSamples: 100 },
      ]);

      // The release worker looks within seconds: no verdict before each variant has 100 events (the API's default).
      const plan = page.getByTestId('release-plan');
      const listed = plan.getByTestId('plan-guardrail');
      await expect.poll(() => listed.getByTestId('plan-guardrail-verdict').textContent(), { timeout: 20_000 }).toBe('Too few samples');
      expect(await listed.textContent()).toContain(`${metric} “on” at most 0.05 above “off”`);
      expect(await listed.textContent()).toContain('No verdict before each variant has 100 events (on: 0, off: 0).');

      // As many errors in both variants: holding, and the chart shows each variant's mean since the start.
      await expect.poll(async () => (await track([...rate('on', 200, 10), ...rate('off', 200, 10)])).status, { timeout: 10_000 }).toBe(202);
      await expect.poll(() => listed.getByTestId('plan-guardrail-verdict').textContent(), { timeout: 30_000 }).toBe('Holding');
      expect(await listed.getByTestId('plan-guardrail-difference').textContent()).toBe('0 (at most 0.05 allowed)');
      const chart = plan.getByTestId('plan-guardrail-chart');
      await expect
        .poll(() => chart.locator('figcaption .visually-hidden').textContent(), { timeout: 30_000 })
        .toBe('on: mean 0.05 over 200 events; off: mean 0.05 over 200 events');

      // Then "on" fails far more often: the worker rolls the release back on its own, and says why.
      expect((await track(rate('on', 300, 300))).status).toBe(202);
      const ended = page.getByTestId('env-development-release-finished').getByTestId('finished-plan');
      await expect.poll(() => ended.first().getAttribute('data-status'), { timeout: 30_000 }).toBe('rolled-back');
      expect(await page.getByTestId('release-plan').count()).toBe(0);
      expect(await ended.first().getByTestId('plan-end').textContent()).toMatch(
        new RegExp(
          `^Rolled back at milestone 1 of 4: serves “off” again\\. Guardrail "${metric}" breached: on 0\\.62 \\(n=500\\) vs off 0\\.05`,
        ),
      );
      const box = ended.first().getByTestId('plan-guardrail-rollback');
      expect(await box.textContent()).toMatch(
        new RegExp(
          `^Rolled back by a guardrail: ${metric} \\(“on” at most 0\\.05 above “off”\\)\\.“on” 0\\.62 against “off” 0\\.05: \\+0\\.57 worse, ` +
            `more than the 0\\.05 allowed \\(p (=|<) [\\d.]+, below α = 0\\.05\\)\\.$`,
        ),
      );
      // The timeline says the release worker rolled it back on the guardrail's figures.
      await expect
        .poll(async () => (await whatHappened(page, 'development')).what, { timeout: 5_000 })
        .toEqual([
          expect.stringMatching(
            new RegExp(
              `^Rolled back by guardrail ${metric.replace('.', '\\.')}: on 0\\.62 vs off 0\\.05 \\(n = 500 / 200\\), p (=|<) [\\d.]+$`,
            ),
          ),
          'Milestone 1 of 4 applied — 1% on',
          'Release started: “on” 1% → 10% → 50% → 100%',
        ]);
      expect((await whatHappened(page, 'development')).who[0]).toBe('by the release worker');
      await ended.first().getByTestId('plan-guardrails-toggle').click();
      expect(await ended.first().getByTestId('plan-guardrail-verdict').textContent()).toBe('Breach');
      await expect.poll(() => page.getByTestId('env-development-summary').textContent()).toContain('Serving off when no rule matches.');

      // The history says the guardrail rolled it back, with its figures.
      await page.getByTestId('tab-history').click();
      await page.getByTestId('history-entry').first().waitFor();
      expect(await page.getByTestId('history-cause').first().textContent()).toMatch(
        new RegExp(`^Release plan rolled back by its guardrail ${metric} \\(on worse than off by \\+0\\.57, p (=|<) [\\d.]+\\)$`),
      );
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('lets an admin send events to a receiver: the secret shown once, a test event delivered and signed with it', async () => {
    // The receiver: answers 200 and keeps what it got.
    const received: { signature: string; eventId: string; body: string }[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        received.push({
          signature: String(request.headers['togglemaster-signature'] ?? ''),
          eventId: String(request.headers['togglemaster-event-id'] ?? ''),
          body,
        });
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/togglemaster`;
    const { context, page, problems } = await newPage();
    try {
      await signIn(page, platform.admin.email, platform.admin.password);
      await page.getByTestId('flags-table').waitFor();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
      // No webhook yet: the form is open.
      await page.getByTestId('webhook-form').waitFor();
      await page.getByTestId('webhook-name').fill('E2E receiver');
      // Flag changes are ticked to begin with; a ticked group takes its types (their boxes are ticked and locked).
      await page.getByTestId('webhook-events-plan').check();
      await page.getByTestId('webhook-events-specific').click();
      expect(await page.getByTestId('webhook-event-plan.rolled-back').isDisabled()).toBe(true);
      expect(await page.getByTestId('webhook-events-summary').textContent()).toContain('Receives: Flag changes, Release plans.');
      await page.getByTestId('webhook-events-flag').uncheck();
      await page.getByTestId('webhook-event-flag.archived').check();
      expect(await page.getByTestId('webhook-events-summary').textContent()).toContain('Receives: Release plans, Flag archived.');
      // An internal address the deployment does not open: the service's reason shows at the URL.
      await page.getByTestId('webhook-url').fill('http://169.254.169.254/latest/meta-data/');
      await page.getByTestId('webhook-form-submit').click();
      await page.getByTestId('webhook-form').getByText('169.254.169.254 is an internal address').waitFor();
      expect(await page.getByTestId('webhooks-table').count()).toBe(0);
      await page.getByTestId('webhook-url').fill(receiverUrl);
      await page.getByTestId('webhook-form-submit').click();

      // The secret, once.
      const secret = await page.getByTestId('webhook-secret-value').inputValue();
      expect(secret).toMatch(/^whsec_/);
      expect(await page.getByTestId('webhook-verify-snippet').textContent()).toContain('ToggleMaster-Signature');
      const row = page.getByTestId('webhook-row-E2E receiver');
      expect(await row.locator('.webhook-url').textContent()).toBe(receiverUrl);
      expect(await row.locator('.tag').allTextContents()).toEqual(['Release plans', 'Flag archived']);
      expect(await row.getByTestId('webhook-enabled').getAttribute('aria-checked')).toBe('true');
      expect(await row.textContent()).toContain(platform.admin.email);
      await page.getByTestId('webhook-secret-done').click();
      await page.reload();
      await page.getByTestId('webhook-detail').waitFor();
      expect(await page.getByTestId('webhook-secret').count()).toBe(0);
      expect(await page.content()).not.toContain(secret);

      // A test event: its delivery appears, then shows delivered with the receiver's 200 on its own.
      await page.getByTestId('webhook-test').click();
      const delivery = page.getByTestId('delivery-row').filter({ hasText: 'Test event' });
      await delivery.and(page.locator('[data-status="delivered"]')).waitFor({ timeout: 20_000 });
      expect(await delivery.getByTestId('delivery-answer').textContent()).toBe('HTTP 200');
      expect(await delivery.getByTestId('delivery-attempts').textContent()).toBe('1');
      await delivery.getByRole('button', { name: 'Details' }).click();
      expect(await page.getByTestId('delivery-payload').textContent()).toContain('"type": "webhook.test"');

      // Signed with the secret shown: t=<unix seconds>,v1=<hex HMAC-SHA256 of `${t}.${body}`>.
      const got = received.find((r) => (JSON.parse(r.body) as { type?: string }).type === 'webhook.test');
      expect(got, JSON.stringify(received)).toBeDefined();
      const { t, v1 } = Object.fromEntries(got!.signature.split(',').map((part) => part.split('='))) as { t: string; v1: string };
      expect(v1).toBe(createHmac('sha256', secret).update(`${t}.${got!.body}`).digest('hex'));
      expect(Math.abs(Date.now() / 1000 - Number(t))).toBeLessThan(60);
      expect(got!.eventId).toBe((JSON.parse(got!.body) as { id: string }).id);

      // Deleted after a confirmation: no webhook left.
      await page.getByTestId('webhook-delete').click();
      await page.getByRole('dialog', { name: 'Delete “E2E receiver”?' }).getByTestId('confirm-button').click();
      await page.getByTestId('webhook-form').waitFor();
      expect(await page.getByTestId('webhooks-table').count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await new Promise((resolve) => receiver.close(resolve));
    }
  }, 90_000);

  it('lets an editor archive a flag (SDKs get FLAG_NOT_FOUND), find it among the archived flags and restore it, and an admin purge it', async () => {
    const key = 'e2e-retired';
    const admin = await asAdmin();
    const created = await admin('POST', '/flags', {
      key,
      name: 'E2E retired',
      type: 'boolean',
      environments: { development: { enabled: true } },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const evaluate = async () => {
      const response = await fetch(`${evaluationUrl}/ofrep/v1/evaluate/flags/${key}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': platform.sdkKey },
        body: JSON.stringify({ context: { targetingKey: 'user-1' } }),
      });
      const body = (await response.json()) as { value?: unknown; errorCode?: string };
      return `${response.status} ${body.errorCode ?? String(body.value)}`;
    };
    await expect.poll(evaluate, { timeout: 5_000 }).toBe('200 true');
    const { context, page, problems } = await newPage();
    try {
      await signIn(page, platform.admin.email, platform.admin.password);
      await page.getByTestId('flags-table').waitFor();
      await page.goto(`${base}/flags/${key}`);
      await page.getByTestId('flag-page').waitFor();

      // Archive: confirmed in a dialog that says what stops and what is kept; the list no longer shows it.
      await page.getByTestId('archive-flag').click();
      // The page holds a dialog per action: the open one is the one in the accessibility tree.
      const archiving = page.getByRole('dialog', { name: `Archive ${key}?` });
      await archiving.waitFor();
      expect(await archiving.textContent()).toContain('FLAG_NOT_FOUND');
      await archiving.getByRole('button', { name: 'Archive flag' }).click();
      await page.getByTestId('flags-table').waitFor();
      expect(page.url()).toMatch(/\/console\/flags$/);
      expect(await page.getByTestId(`flag-row-${key}`).count()).toBe(0);
      await expect.poll(evaluate, { timeout: 5_000 }).toBe('404 FLAG_NOT_FOUND');

      // The archived flags: who archived it, and Restore.
      await page.getByTestId('flags-archived').click();
      const row = page.getByTestId(`archived-row-${key}`);
      await row.waitFor();
      expect(await row.textContent()).toContain(`by ${platform.admin.email}`);
      await page.getByTestId(`restore-${key}`).click();
      await expect.poll(() => row.count()).toBe(0);
      await expect.poll(evaluate, { timeout: 5_000 }).toBe('200 true');
      await page.getByTestId('flags-active').click();
      await page.getByTestId(`flag-row-${key}`).waitFor();
      expect(await page.getByTestId(`flag-${key}-development-state`).textContent()).toBe('On');

      // Archived again (by someone else, through the API): its page says so, shows what it will serve, and offers Restore and Purge.
      expect((await admin('DELETE', `/flags/${key}`)).status).toBe(204);
      await page.goto(`${base}/flags/${key}`);
      await page.getByTestId('archived-panel').waitFor();
      expect(await page.getByTestId('flag-archived').textContent()).toBe('Archived');
      expect(await page.getByTestId('archived-development-state').textContent()).toBe('development: on, serving on');
      expect(await page.getByTestId('archive-flag').count()).toBe(0);
      expect(await page.getByTestId('edit-flag').count()).toBe(0);
      expect(await page.getByTestId('tab-environments').count()).toBe(0);

      // Purge: the key must be typed.
      await page.getByTestId('purge-flag').click();
      const purging = page.getByRole('dialog', { name: `Purge ${key}?` });
      await purging.waitFor();
      const confirm = purging.getByRole('button', { name: 'Purge flag' });
      expect(await confirm.isDisabled()).toBe(true);
      await purging.getByTestId('confirm-input').fill(key);
      await confirm.click();
      await page.getByTestId('flags-archived').waitFor();
      await expect.poll(() => page.url()).toContain('/console/flags?archived=1');
      expect(await page.getByTestId(`archived-row-${key}`).count()).toBe(0);
      expect((await admin('GET', `/flags/${key}`)).status).toBe(404);
      const history = (await (await admin('GET', `/flags/${key}/history`)).json()) as { items: { action: string }[] };
      expect(history.items.map((e) => e.action)).toEqual(['purged', 'archived', 'restored', 'archived', 'created']);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('shows a viewer everything but no control that could only fail', async () => {
    const email = 'viewer-e2e@example.com';
    const password = 'a-long-viewer-password';
    const registered = await fetch(`${consoleUrlFor(portOffset)}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    expect(registered.status).toBe(202);
    // An editor scheduled a change in production for tomorrow: a viewer sees it, with no way to move or cancel it.
    const admin = await asAdmin();
    const { version } = (await (await admin('GET', `/flags/${flagKey}`)).json()) as { version: number };
    const scheduled = await admin(
      'POST',
      `/flags/${flagKey}/environments/production/schedules`,
      { runAt: new Date(Date.now() + 24 * 3600_000).toISOString(), change: { enabled: true } },
      { 'if-match': `"${version}"` },
    );
    expect(scheduled.status, await scheduled.clone().text()).toBe(201);
    const { context, page, problems } = await newPage();
    try {
      await signIn(page, email, password);
      await page.getByTestId('flags-table').waitFor();
      expect(await page.getByTestId('my-role').textContent()).toBe('viewer');
      expect(await page.getByTestId('new-flag').isDisabled()).toBe(true);
      expect(await page.getByTestId('new-flag').getAttribute('title')).toContain('editor or admin');
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API keys' }).count()).toBe(0);
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).count()).toBe(0);
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).count()).toBe(0);
      expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Environments' }).count()).toBe(0);

      await page.getByTestId(`flag-row-${flagKey}`).getByRole('link').click();
      await page.getByTestId('flag-page').waitFor();
      for (const id of ['edit-flag', 'archive-flag', 'env-development-switch', 'env-production-switch'])
        expect(await page.getByTestId(id).isDisabled(), id).toBe(true);
      expect(await page.getByTestId('flag-client-visibility').textContent()).toBe('Server-side SDKs only');
      expect(await page.getByTestId('env-development-save').count()).toBe(0);
      expect(await page.getByTestId('env-development-off-variant').isDisabled()).toBe(true);
      expect(await page.getByTestId('readonly-note').first().textContent()).toContain('Your role is viewer');
      const pending = page.getByTestId('env-production-pending').getByTestId('scheduled-change');
      expect(await pending.locator('.schedule-what').textContent()).toBe('Turn it on');
      expect(await pending.locator('.schedule-by').textContent()).toBe(`by ${platform.admin.email}`);
      for (const id of [
        'schedule-move',
        'schedule-cancel',
        'env-production-schedule',
        'env-development-schedule',
        'env-production-schedule-edits',
      ])
        expect(await page.getByTestId(id).count(), id).toBe(0);

      await page.getByTestId('tab-targeting').click();
      await page.getByTestId('rules').waitFor();
      expect(await page.getByTestId('add-rule').isDisabled()).toBe(true);
      expect(await page.getByTestId('rule-0-edit').isDisabled()).toBe(true);
      expect(await page.getByTestId('rule-0-delete').isDisabled()).toBe(true);
      expect(await page.getByTestId('rule-0-handle').count()).toBe(0);

      // Reading is allowed: the playground and the analytics answer a viewer.
      await page.getByTestId('tab-playground').click();
      await page.getByTestId('playground-evaluate').click();
      await page.getByTestId('result-reason').waitFor();
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('creates an account from the sign-in page, and for a taken email leaves that account alone and says so', async () => {
    const email = 'newcomer-e2e@example.com';
    const register = async (page: Page, password: string) => {
      await page.goto(`${base}/`);
      await page.getByRole('button', { name: 'Create one' }).click();
      await page.getByTestId('signin-email').fill(email);
      await page.getByTestId('signin-password').fill(password);
      await page.getByTestId('signin-submit').click();
    };
    const first = await newPage();
    try {
      await register(first.page, 'the newcomer password');
      await first.page.getByTestId('flags-table').waitFor();
      expect(await first.page.getByTestId('my-role').textContent()).toBe('viewer');
      expect(first.problems).toEqual([]);
    } finally {
      await first.context.close();
    }
    const second = await newPage();
    try {
      await register(second.page, 'somebody else guessing');
      await expect.poll(() => second.page.getByTestId('error').textContent()).toContain('That email and password do not match an account.');
      expect(await second.page.getByTestId('registered-hint').textContent()).toContain('left as it was');
      expect(await second.page.getByTestId('flags-table').count()).toBe(0);
      await signIn(second.page, email, 'the newcomer password');
      await second.page.getByTestId('flags-table').waitFor();
      expect(second.problems).toEqual([]);
    } finally {
      await second.context.close();
    }
  }, 60_000);

  it('lets an admin invite a person, who chooses a password from the link and is signed in with the invited role; the link works once', async () => {
    const email = 'invitee-e2e@example.com';
    const password = 'the invitee password';
    const admin = await newPage();
    let link: string;
    try {
      await signIn(admin.page, platform.admin.email, platform.admin.password);
      await admin.page.getByTestId('flags-table').waitFor();
      await admin.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
      await admin.page.getByTestId('invite-email').fill(email);
      await admin.page.getByTestId('invite-role').selectOption('editor');
      await admin.page.getByTestId('invite-submit').click();
      // Shown once, as a whole link on this console, with a way to copy it.
      link = await admin.page.getByTestId('new-invitation-link').inputValue();
      expect(link).toMatch(new RegExp(`^${base}/invitations/accept\\?token=tmi_[A-Za-z0-9_-]+$`));
      expect(await admin.page.getByTestId('copy-invitation-link').isVisible()).toBe(true);
      await admin.page.getByTestId(`invitation-row-${email}`).waitFor();

      // Another invitation, revoked: it leaves the pending list.
      await admin.page.getByTestId('invite-email').fill('withdrawn-e2e@example.com');
      await admin.page.getByTestId('invite-submit').click();
      await admin.page.getByTestId('invitation-row-withdrawn-e2e@example.com').waitFor();
      await admin.page.getByTestId('invitation-revoke-withdrawn-e2e@example.com').click();
      await admin.page
        .getByRole('dialog', { name: 'Revoke the invitation of withdrawn-e2e@example.com?' })
        .getByTestId('confirm-button')
        .click();
      await admin.page.getByTestId('invitation-row-withdrawn-e2e@example.com').waitFor({ state: 'detached' });
      expect(admin.problems).toEqual([]);
    } finally {
      await admin.context.close();
    }

    const invitee = await newPage();
    try {
      await invitee.page.goto(link);
      await invitee.page.getByTestId('invitation-name').fill('Ines Invitee');
      await invitee.page.getByTestId('invitation-password').fill(password);
      await invitee.page.getByTestId('invitation-submit').click();
      await invitee.page.getByTestId('flags-table').waitFor();
      expect(await invitee.page.getByTestId('my-role').textContent()).toBe('editor');
      expect(await invitee.page.getByTestId('me').textContent()).toContain('Ines Invitee');
      // The used link left the address bar.
      expect(invitee.page.url()).not.toContain('token=');
      expect(invitee.problems).toEqual([]);
    } finally {
      await invitee.context.close();
    }

    // The link again: refused, in words, and nothing is created.
    const again = await newPage();
    try {
      await again.page.goto(link);
      await again.page.getByTestId('invitation-password').fill('someone else entirely');
      await again.page.getByTestId('invitation-submit').click();
      await expect.poll(() => again.page.getByTestId('error').textContent()).toContain('already used');
      expect(await again.page.getByTestId('flags-table').count()).toBe(0);
      // The invitee signs in with the password they chose.
      await signIn(again.page, email, password);
      await again.page.getByTestId('flags-table').waitFor();
      expect(await again.page.getByTestId('my-role').textContent()).toBe('editor');
    } finally {
      await again.context.close();
    }
  }, 90_000);

  it('lets an admin add an environment, see it on a flag, copy development onto it, and delete it once it is empty again', async () => {
    const key = 'e2e-promote';
    const admin = await asAdmin();
    const created = await admin('POST', '/flags', {
      key,
      name: 'E2E promote',
      type: 'boolean',
      environments: { development: { enabled: true } },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const rule = await admin('POST', '/targeting/rules', {
      flagKey: key,
      environment: 'development',
      name: 'Staff first',
      conditions: [{ attribute: 'email', operator: 'ends_with', values: ['@togglemaster.local'] }],
      serve: { variant: 'on' },
    });
    expect(rule.status, await rule.clone().text()).toBe(201);
    const { context, page, problems } = await newPage();
    try {
      await signIn(page, platform.admin.email, platform.admin.password);
      await page.getByTestId('flags-table').waitFor();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Environments' }).click();
      await page.getByTestId('environment-row-production').waitFor();

      // Add it, last in the order; protect it with two approvals, then not; rename it; move it above production.
      await page.getByTestId('environment-create-key').fill('QA env');
      await page.getByText('Lower-case letters and digits').waitFor();
      expect(await page.getByTestId('environment-create-submit').isDisabled()).toBe(true);
      await page.getByTestId('environment-create-key').fill('qa');
      await page.getByTestId('environment-create-name').fill('QA');
      await page.getByTestId('environment-create-submit').click();
      const row = page.getByTestId('environment-row-qa');
      await row.waitFor();
      /** The data-testid of each element `selector` finds, in page order. */
      const testIds = async (selector: string) =>
        Promise.all((await page.locator(selector).all()).map((element) => element.getAttribute('data-testid')));
      const order = () => testIds('[data-testid^="environment-row-"]');
      expect(await order()).toEqual(['environment-row-development', 'environment-row-production', 'environment-row-qa']);
      await page.getByTestId('environment-qa-edit').click();
      await page.getByTestId('environment-edit-protected').check();
      await page.getByTestId('environment-edit-approvals').fill('2');
      await page.getByTestId('environment-edit-save').click();
      await expect.poll(() => page.getByTestId('environment-qa-protection').textContent()).toBe('Protected · 2 approvals');
      await page.getByTestId('environment-qa-edit').click();
      await page.getByTestId('environment-edit-protected').uncheck();
      await page.getByTestId('environment-edit-name').fill('Quality assurance');
      await page.getByTestId('environment-edit-save').click();
      await expect.poll(() => page.getByTestId('environment-qa-name').textContent()).toBe('Quality assurance');
      expect(await page.getByTestId('environment-qa-protection').textContent()).toBe('Made directly');
      await page.getByTestId('environment-qa-up').click();
      await expect.poll(order).toEqual(['environment-row-development', 'environment-row-qa', 'environment-row-production']);

      // The flag has a column for it, by its name, in that order: off, with no rules.
      await page.goto(`${base}/flags/${key}`);
      const column = page.getByTestId('env-qa');
      await column.waitFor();
      expect(await column.getByRole('heading', { level: 2 }).textContent()).toContain('Quality assurance');
      expect(await testIds('.env-column')).toEqual(['env-development', 'env-qa', 'env-production']);
      expect(await page.getByTestId('env-qa-switch').getAttribute('aria-checked')).toBe('false');

      // Copy development onto it: the dialog says what is replaced, then the column is as development is.
      await page.getByTestId('env-qa-copy').click();
      const copying = page.getByRole('dialog', { name: 'Copy another environment onto Quality assurance?' });
      await copying.waitFor();
      await copying.getByTestId('env-qa-copy-from').selectOption('development');
      await copying.getByTestId('env-qa-copy-summary').waitFor();
      const lines = await copying.getByTestId('copy-line').allTextContents();
      expect(lines[0]).toBe('Onoffon');
      expect(lines.at(-1)).toBe('Targeting rulesno rules1 rule: Staff first (copied)');
      await copying.getByRole('button', { name: 'Copy from Development' }).click();
      await expect.poll(() => page.getByTestId('env-qa-switch').getAttribute('aria-checked')).toBe('true');
      const copiedRules = (await (await admin('GET', `/targeting/rules?flagKey=${key}&environment=qa`)).json()) as {
        items: { name: string }[];
      };
      expect(copiedRules.items.map((r) => r.name)).toEqual(['Staff first']);
      await page.getByTestId('tab-history').click();
      await expect
        .poll(() => page.getByTestId('history-cause').first().textContent())
        .toBe(`Copied from development by ${platform.admin.email}`);

      // Deleting it is refused while the flag is on there and has rules there, in the service's words.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Environments' }).click();
      await page.getByTestId('environment-qa-delete').click();
      const deleting = page.getByRole('dialog', { name: 'Delete the environment Quality assurance?' });
      await deleting.getByTestId('confirm-button').click();
      await expect.poll(() => deleting.getByTestId('error').textContent()).toContain(`flags on there: ${key}`);
      expect(await deleting.getByTestId('error').textContent()).toContain(`targeting rules of ${key}`);
      await deleting.getByRole('button', { name: 'Cancel' }).click();
      expect(await row.count()).toBe(1);

      // Production (off, no rules) copied onto it empties it; then it can go.
      await page.goto(`${base}/flags/${key}`);
      await page.getByTestId('env-qa-copy').click();
      await copying.getByTestId('env-qa-copy-from').selectOption('production');
      await copying.getByTestId('env-qa-copy-summary').waitFor();
      await copying.getByRole('button', { name: 'Copy from Production' }).click();
      await expect.poll(() => page.getByTestId('env-qa-switch').getAttribute('aria-checked')).toBe('false');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Environments' }).click();
      await page.getByTestId('environment-qa-delete').click();
      await deleting.getByTestId('confirm-button').click();
      await row.waitFor({ state: 'detached' });
      expect(await order()).toEqual(['environment-row-development', 'environment-row-production']);
      await page.goto(`${base}/flags/${key}`);
      await page.getByTestId('env-production').waitFor();
      expect(await page.getByTestId('env-qa').count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  it('lets an editor propose a change to a protected environment, and its rules, which another person approves and applies', async () => {
    const key = 'e2e-approved';
    const admin = await asAdmin();
    const created = await admin('POST', '/flags', { key, name: 'E2E approved', type: 'boolean' });
    expect(created.status, await created.clone().text()).toBe(201);
    // The proposer: an editor the admin invites.
    const editor = { email: 'proposer-e2e@example.com', password: 'the proposer password' };
    const invited = await admin('POST', '/auth/invitations', { email: editor.email, role: 'editor' });
    expect(invited.status, await invited.clone().text()).toBe(201);
    const { token } = (await invited.json()) as { token: string };
    const accepted = await fetch(`${consoleUrlFor(portOffset)}/auth/invitations/accept`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password: editor.password }),
    });
    expect(accepted.status, await accepted.clone().text()).toBe(201);
    const protect = (on: boolean) =>
      admin('PATCH', '/flags/environments/production', on ? { protected: true, requiredApprovals: 1 } : { protected: false });
    const proposer = await newPage();
    const reviewer = await newPage();
    try {
      // The editor's page is open before production is protected: turning it on is refused, and offered as a change request.
      await signIn(proposer.page, editor.email, editor.password);
      await proposer.page.getByTestId('flags-table').waitFor();
      await proposer.page.goto(`${base}/flags/${key}`);
      await proposer.page.getByTestId('env-production').waitFor();
      expect(await proposer.page.getByTestId('env-production-protected').count()).toBe(0);
      expect((await protect(true)).status).toBe(200);
      await proposer.page.getByTestId('env-production-switch').click();
      await proposer.page
        .getByRole('dialog', { name: `Turn on ${key} in production?` })
        .getByTestId('confirm-button')
        .click();
      const proposing = proposer.page.getByRole('dialog', { name: `Propose a change to ${key} in production?` });
      await proposing.waitFor();
      expect(await proposing.getByTestId('env-production-propose-what').textContent()).toBe(
        'Turn it on in production, once approved and applied.',
      );
      expect(await proposing.getByTestId('env-production-propose-proposal-note').textContent()).toBe(
        'production became protected since this page was loaded: this opens a change request, which needs 1 approval by other people before it can be applied.',
      );
      await proposing.getByTestId('env-production-propose-description').fill('Launch: checkout v2 for everyone');
      await proposing.getByRole('button', { name: 'Propose change' }).click();
      await proposing.waitFor({ state: 'hidden' });
      await expect
        .poll(() => proposer.page.getByTestId('env-production-proposed-message').textContent())
        .toBe('Change request opened — needs 1 approval.');
      expect(await proposer.page.getByTestId('env-production-switch').getAttribute('aria-checked')).toBe('false');
      await proposer.page.getByTestId('env-production-protected').waitFor();
      expect(await proposer.page.getByTestId('env-production-change-requests').getByTestId('change-request-item').textContent()).toContain(
        'Turn it on',
      );

      // Opened again, the page knows production is protected: its forms propose from the start.
      await proposer.page.reload();
      await proposer.page.getByTestId('env-production-protected').waitFor();
      expect(await proposer.page.getByTestId('env-production-save').textContent()).toBe('Propose change…');
      expect(await proposer.page.getByTestId('env-development-save').textContent()).toBe('Save development');
      await proposer.page.getByTestId('env-production-schedule').click();
      expect(await proposer.page.getByTestId('env-production-schedule-submit').textContent()).toBe('Propose scheduled change');
      expect(await proposer.page.getByTestId('env-production-schedule-proposal-note').textContent()).toBe(
        'production is protected: this opens a change request, which needs 1 approval by other people before it can be applied.',
      );
      await proposer.page.getByTestId('env-production-schedule-close').click();

      // Its author sees it waiting, may withdraw it, not approve it.
      await proposer.page.getByTestId('env-production-change-requests').getByRole('link', { name: 'Turn it on' }).click();
      await proposer.page.getByTestId('change-request').waitFor();
      expect(await proposer.page.getByTestId('change-request-status').textContent()).toBe('Waiting for approval');
      expect(await proposer.page.getByTestId('change-request-description').textContent()).toBe('Launch: checkout v2 for everyone');
      expect(await proposer.page.getByTestId('change-request-diff').textContent()).toContain('enabled');
      expect(await proposer.page.getByTestId('change-request-approve').count()).toBe(0);
      expect(await proposer.page.getByTestId('change-request-withdraw').isVisible()).toBe(true);
      expect(await proposer.page.getByTestId('change-request-note').textContent()).toBe(
        'You opened this request: other people approve it. It needs 1 more approval before it can be applied.',
      );
      const requestUrl = proposer.page.url();

      // Another person (the admin) finds it waiting, comments, approves and applies it.
      await signIn(reviewer.page, platform.admin.email, platform.admin.password);
      await reviewer.page.getByTestId('flags-table').waitFor();
      await expect.poll(() => reviewer.page.getByTestId('nav-change-requests-count').textContent()).toBe('1');
      await reviewer.page.getByTestId('nav-change-requests').click();
      const row = reviewer.page.locator(`[data-flag="${key}"]`);
      await row.waitFor();
      expect(await row.getByTestId('change-request-approvals').textContent()).toBe('0/1');
      expect(await row.textContent()).toContain(editor.email);
      await row.getByTestId('change-request-link').click();
      await reviewer.page.getByTestId('change-request').waitFor();
      expect(reviewer.page.url()).toBe(requestUrl);
      expect(await reviewer.page.getByTestId('change-request-apply').count()).toBe(0);
      await reviewer.page.getByTestId('change-request-comment-body').fill('Checked with support: go.');
      await reviewer.page.getByTestId('change-request-comment-submit').click();
      await expect.poll(() => reviewer.page.getByTestId('change-request-comment').allTextContents()).toHaveLength(1);
      await reviewer.page.getByTestId('change-request-approve').click();
      await expect.poll(() => reviewer.page.getByTestId('change-request-status').textContent()).toBe('Approved: ready to apply');
      await reviewer.page.getByTestId('change-request-apply').click();
      await reviewer.page
        .getByRole('dialog', { name: `Apply this change request to ${key} in production?` })
        .getByTestId('confirm-button')
        .click();
      await expect.poll(() => reviewer.page.getByTestId('change-request-status').textContent()).toBe('Applied');
      expect(await reviewer.page.getByTestId('change-request-applied').textContent()).toContain(`Applied by ${platform.admin.email}`);
      expect(await reviewer.page.getByTestId('change-request-approve').count()).toBe(0);

      // The flag is on in production, recorded as the proposer's change approved by the reviewer.
      await reviewer.page.getByRole('link', { name: key }).first().click();
      await expect.poll(() => reviewer.page.getByTestId('env-production-switch').getAttribute('aria-checked')).toBe('true');
      const flag = (await (await admin('GET', `/flags/${key}`)).json()) as { environments: { production: { enabled: boolean } } };
      expect(flag.environments.production.enabled).toBe(true);
      await reviewer.page.getByTestId('tab-history').click();
      await expect
        .poll(() => reviewer.page.getByTestId('history-cause').first().textContent())
        .toBe(`Change request by ${editor.email}, approved by ${platform.admin.email}`);
      // Nothing waits any more.
      await reviewer.page.getByTestId('nav-change-requests').click();
      await reviewer.page.getByText('Nothing waits for a review.').waitFor();
      expect(await reviewer.page.getByTestId('nav-change-requests-count').count()).toBe(0);

      // Rules too: in production the Targeting tab drafts them, and the draft is proposed whole.
      await proposer.page.goto(`${base}/flags/${key}/targeting?environment=production`);
      await proposer.page.getByTestId('targeting-protected').waitFor();
      await proposer.page.getByTestId('add-rule').click();
      await proposer.page.getByTestId('rule-name').fill('Brazil first');
      await proposer.page.getByTestId('condition-0-attribute').fill('country');
      await proposer.page.getByTestId('condition-0-operator').selectOption('in');
      await proposer.page.getByTestId('condition-0-values').fill('BR');
      await proposer.page.getByTestId('rule-save').click();
      await expect.poll(() => proposer.page.getByTestId('rule-0-name').textContent()).toBe('Brazil first');
      const noRules = (await (await admin('GET', `/targeting/rules?flagKey=${key}&environment=production`)).json()) as { items: unknown[] };
      expect(noRules.items).toEqual([]);
      await proposer.page.getByTestId('rules-propose').click();
      const proposingRules = proposer.page.getByRole('dialog', { name: `Propose these rules for ${key} in production?` });
      await proposingRules.getByRole('button', { name: 'Propose rules' }).click();
      await proposingRules.waitFor({ state: 'hidden' });
      await proposer.page.getByTestId('targeting-proposed-link').click();
      const rulesRequest = proposer.page.url();
      await reviewer.page.goto(rulesRequest);
      await reviewer.page.getByTestId('change-request-approve').click();
      await expect.poll(() => reviewer.page.getByTestId('change-request-status').textContent()).toBe('Approved: ready to apply');
      await reviewer.page.getByTestId('change-request-apply').click();
      await reviewer.page.getByRole('dialog').getByTestId('confirm-button').click();
      await expect.poll(() => reviewer.page.getByTestId('change-request-status').textContent()).toBe('Applied');
      const set = (await (await admin('GET', `/targeting/rules?flagKey=${key}&environment=production`)).json()) as {
        items: { name: string }[];
      };
      expect(set.items.map((r) => r.name)).toEqual(['Brazil first']);
      expect(proposer.problems).toEqual([]);
      expect(reviewer.problems).toEqual([]);
    } finally {
      await proposer.context.close();
      await reviewer.context.close();
      // Production is left as the other tests expect it: changed directly.
      expect((await protect(false)).status).toBe(200);
    }
  }, 90_000);

  it('projects: an admin creates one, makes a flag there (not in the default project), grants a viewer, who sees it read-only', async () => {
    const project = 'payments';
    const key = 'e2e-payments-checkout';
    const elsewhere = 'e2e-default-only';
    const viewer = { email: 'project-viewer-e2e@example.com', password: 'a-long-project-viewer-password' };
    // A second person (a viewer of the organisation), and a flag of the default project to tell the two lists apart.
    const registered = await fetch(`${consoleUrlFor(portOffset)}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(viewer),
    });
    expect(registered.status).toBe(202);
    const api = await asAdmin();
    const other = await api('POST', '/flags', { key: elsewhere, name: 'E2E default only', type: 'boolean' });
    expect(other.status, await other.clone().text()).toBe(201);

    const admin = await newPage();
    try {
      const { page } = admin;
      await signIn(page, platform.admin.email, platform.admin.password);
      await page.getByTestId('flags-table').waitFor();
      expect(await page.getByTestId('project-switcher').inputValue()).toBe('default');

      // An organisation admin creates the project: it is listed with their role.
      await page.getByTestId('nav-projects').click();
      await page.getByTestId('project-key').fill(project);
      await page.getByTestId('project-name').fill('Payments');
      await page.getByTestId('project-description').fill('Checkout and refunds');
      await page.getByTestId('project-create').click();
      await page.getByTestId(`project-row-${project}`).waitFor();
      expect(await page.getByTestId(`project-role-${project}`).textContent()).toBe('admin');

      // Switched to it on the flags list: the URL names it, the list is its own (empty), and a new flag is made there.
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Flags' }).click();
      await page.getByTestId('flags-table').waitFor();
      await page.getByTestId('project-switcher').selectOption(project);
      await expect.poll(() => page.url()).toContain(`/console/flags?project=${project}`);
      await page.getByText('No flags yet.').waitFor();
      await page.getByTestId('new-flag').click();
      expect(await page.getByTestId('create-flag-project').textContent()).toContain('Payments');
      await page.getByTestId('flag-name').fill('E2E payments checkout');
      expect(await page.getByTestId('flag-key').inputValue()).toBe(key);
      await page.getByTestId('flag-submit').click();
      await page.getByTestId('flag-page').waitFor();
      expect(await page.getByTestId('resource-project').getAttribute('data-project')).toBe(project);
      expect(((await (await api('GET', `/flags/${key}`)).json()) as { project: string }).project).toBe(project);

      // The default project's list does not hold it; the project's does.
      await page.getByTestId('project-switcher').selectOption('default');
      await page.getByTestId(`flag-row-${elsewhere}`).waitFor();
      expect(await page.getByTestId(`flag-row-${key}`).count()).toBe(0);
      const defaults = (await (await api('GET', '/flags?project=default&limit=200')).json()) as { items: { key: string }[] };
      expect(defaults.items.map((f) => f.key)).not.toContain(key);
      await page.getByTestId('project-switcher').selectOption(project);
      await page.getByTestId(`flag-row-${key}`).waitFor();
      expect(await page.getByTestId(`flag-row-${elsewhere}`).count()).toBe(0);

      // The members UI: the organisation admin picks the second person's account and makes them viewer.
      await page.getByTestId('nav-projects').click();
      await page.getByTestId(`project-open-${project}`).click();
      await page.getByTestId('project-members').waitFor();
      await page.getByTestId('member-add-user').selectOption({ label: viewer.email });
      await page.getByTestId('member-add-role').selectOption('viewer');
      await page.getByTestId('member-add-submit').click();
      await page.getByTestId(`member-row-${viewer.email}`).waitFor();
      expect(await page.getByTestId(`member-role-${viewer.email}`).inputValue()).toBe('viewer');

      // Not empty: deleting it is refused with what is left, in the dialog.
      await page.getByTestId('project-delete').click();
      const deleting = page.getByRole('dialog', { name: `Delete project ${project}?` });
      await deleting.getByTestId('confirm-input').fill(project);
      await deleting.getByTestId('confirm-button').click();
      await expect.poll(() => deleting.getByTestId('error').textContent()).toContain('is not empty');
      await deleting.getByRole('button', { name: 'Cancel' }).click();
      expect(admin.problems).toEqual([]);
    } finally {
      await admin.context.close();
    }

    const member = await newPage();
    try {
      const { page } = member;
      await signIn(page, viewer.email, viewer.password);
      await page.getByTestId('flags-table').waitFor();
      // Listed with their role there (the services hear of the membership within a second).
      await expect
        .poll(
          async () => {
            await page.goto(`${base}/projects`);
            await page.getByTestId('projects-table').waitFor();
            return page.getByTestId(`project-role-${project}`).count();
          },
          { timeout: 15_000 },
        )
        .toBe(1);
      expect(await page.getByTestId(`project-role-${project}`).textContent()).toBe('viewer');
      expect(await page.getByTestId('project-form').count()).toBe(0);

      // In the project: its flag, and no edit actions.
      await page.getByTestId(`project-switch-${project}`).click();
      await page.getByTestId(`flag-row-${key}`).waitFor();
      expect(page.url()).toContain(`project=${project}`);
      expect(await page.getByTestId('my-role').textContent()).toBe('viewer');
      expect(await page.getByTestId('new-flag').isDisabled()).toBe(true);
      expect(await page.getByTestId('new-flag').getAttribute('title')).toContain(`Your role in project ${project} is viewer`);
      const nav = page.getByRole('navigation', { name: 'Main' });
      for (const name of ['API keys', 'Webhooks', 'Users', 'Environments'])
        expect(await nav.getByRole('link', { name }).count(), name).toBe(0);
      await page.getByTestId(`flag-row-${key}`).getByRole('link').click();
      await page.getByTestId('flag-page').waitFor();
      expect(await page.getByTestId('resource-project').getAttribute('data-project')).toBe(project);
      for (const id of ['edit-flag', 'archive-flag', 'env-development-switch', 'env-production-switch'])
        expect(await page.getByTestId(id).isDisabled(), id).toBe(true);
      expect(await page.getByTestId('env-development-save').count()).toBe(0);

      // Its page: read only (no settings, no members, no delete).
      await page.goto(`${base}/projects/${project}`);
      await page.getByTestId('project-page').waitFor();
      expect(await page.getByTestId('project-my-role').textContent()).toBe('viewer');
      for (const id of ['project-settings', 'project-members', 'project-delete']) expect(await page.getByTestId(id).count(), id).toBe(0);
      expect(await page.getByTestId('readonly-note').textContent()).toContain('managed by its admins');
      expect(member.problems).toEqual([]);
    } finally {
      await member.context.close();
    }
  }, 120_000);

  it('sends a person whose session ended back to sign in, with a message', async () => {
    const { context, page } = await newPage();
    try {
      await signIn(page, platform.admin.email, platform.admin.password);
      await page.getByTestId('flags-table').waitFor();
      // A token the services no longer accept (as after it expired): the next call answers 401.
      await page.evaluate(() =>
        sessionStorage.setItem('togglemaster.session', JSON.stringify({ token: 'expired.token.value', expiresAt: Date.now() + 60_000 })),
      );
      await page.goto(`${base}/flags/${flagKey}`);
      await page.getByTestId('signin-submit').waitFor();
      await page.getByText('Your session has ended. Sign in again.').waitFor();
      await page.getByTestId('signin-email').fill(platform.admin.email);
      await page.getByTestId('signin-password').fill(platform.admin.password);
      await page.getByTestId('signin-submit').click();
      // Back where they were going.
      await page.getByTestId('flag-page').waitFor();
      expect(page.url()).toContain(`/console/flags/${flagKey}`);
      await page.getByTestId('sign-out').click();
      await page.getByTestId('signin-submit').waitFor();
      expect(await page.evaluate(() => sessionStorage.getItem('togglemaster.session'))).toBeNull();
    } finally {
      await context.close();
    }
  }, 60_000);
});
