/**
 * Screenshots of the console's main pages for the docs, taken from a fresh all-in-one process with its demo data:
 *   npm run build:web && node web/e2e/screenshots.ts          (writes docs/images/console-*.png)
 * Needs Chromium (CHROMIUM_PATH, default /usr/bin/chromium).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from './chromium.ts';
import { repoRoot, startAllInOne, consoleUrlFor, upstreamsFor } from './harness.ts';

// Its own ports: 1300 and 1400 are the browser tests'.
const portOffset = Number(process.env.SCREENSHOT_PORT_OFFSET ?? 1500);
const out = join(repoRoot, 'docs/images');
const dataDir = await mkdtemp(join(tmpdir(), 'tm-console-shots-'));
const platform = await startAllInOne({ dataDir, portOffset });
const consoleUrl = consoleUrlFor(portOffset);
const browser = await launchChromium(['--force-device-scale-factor=1']);

try {
  await mkdir(out, { recursive: true });
  // Traffic for the analytics page: the demo's A/B test and checkout, as SDKs would ask.
  const evaluation = upstreamsFor(portOffset).evaluation;
  const evaluate = (flagKey: string, context: Record<string, unknown>) =>
    fetch(`${evaluation}/evaluate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': platform.sdkKey },
      body: JSON.stringify({ flagKey, context }),
    });
  for (let i = 0; i < 240; i++) await evaluate('banner-color', { targetingKey: `visitor-${i}` });
  for (let i = 0; i < 60; i++) await evaluate('new-checkout', { targetingKey: `user-${i}`, country: ['BR', 'US', 'FR'][i % 3] });

  const context = await browser.newContext({ viewport: { width: 1366, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const base = `${consoleUrl}/console`;
  await page.goto(`${base}/`);
  await page.getByTestId('signin-email').fill(platform.admin.email);
  await page.getByTestId('signin-password').fill(platform.admin.password);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('flags-table').waitFor();

  const shoot = async (target: Page, name: string) => {
    // No animation frames half-way, no blinking caret.
    await target
      .addStyleTag({
        content: '*, *::before, *::after { animation: none !important; transition: none !important; caret-color: transparent !important; }',
      })
      .catch(() => undefined);
    await target.screenshot({ path: join(out, `console-${name}.png`), fullPage: true });
    process.stdout.write(`  docs/images/console-${name}.png\n`);
  };

  await shoot(page, 'flags');

  await page.goto(`${base}/flags/banner-color`);
  await page.getByTestId('environments').waitFor();
  await page.getByTestId('env-development-serve').waitFor();
  await shoot(page, 'flag-detail');

  await page.goto(`${base}/flags/new-checkout/targeting?environment=development`);
  await page.getByTestId('rule-1').waitFor();
  await page.getByTestId('rule-1-edit').click();
  await page.getByTestId('rule-editor').waitFor();
  await shoot(page, 'targeting');

  await page.goto(`${base}/flags/banner-color/analytics`);
  // The page refreshes every 5 s: wait until the 240 evaluations above are counted.
  await page.getByTestId('analytics-total').filter({ hasText: '240' }).waitFor({ timeout: 30_000 });
  await page.locator('.recharts-bar-rectangle').first().waitFor();
  await shoot(page, 'analytics');

  await page.goto(`${base}/flags/new-checkout/playground`);
  await page.getByTestId('playground-context').fill(JSON.stringify({ targetingKey: 'user-7', country: 'BR', plan: 'pro' }, null, 2));
  await page.getByTestId('playground-evaluate').click();
  await page.getByTestId('playground-result').waitFor();
  await shoot(page, 'playground');

  await page.goto(`${base}/api-keys`);
  await page.getByTestId('api-keys-table').waitFor();
  await page.getByTestId('api-key-name').fill('checkout-service');
  await page.getByTestId('api-key-environment').selectOption('production');
  await page.getByTestId('api-key-create').click();
  await page.getByTestId('new-api-key').waitFor();
  await page.getByTestId('api-key-row-checkout-service').waitFor();
  await shoot(page, 'api-keys');

  // A change with a diff for the history page: a 20/80 rollout in production, as an editor would make it.
  const { accessToken } = (await (
    await fetch(`${consoleUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(platform.admin),
    })
  ).json()) as { accessToken: string };
  const patched = await fetch(`${consoleUrl}/flags/new-checkout/environments/production`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
    body: JSON.stringify({
      defaultServe: {
        rollout: [
          { variant: 'on', weight: 20 },
          { variant: 'off', weight: 80 },
        ],
      },
      offVariant: 'off',
    }),
  });
  if (!patched.ok) throw new Error(`PATCH answered ${patched.status}`);
  await page.goto(`${base}/flags/new-checkout/history`);
  await page.getByTestId('history-entry').first().waitFor();
  await shoot(page, 'history');

  // A phone's width: the same pages, one column (same tab: the session lives in this tab's sessionStorage).
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${base}/flags/new-checkout`);
  await page.getByTestId('environments').waitFor();
  await shoot(page, 'narrow');
} finally {
  await browser.close();
  await platform.stop();
  await rm(dataDir, { recursive: true, force: true });
}
