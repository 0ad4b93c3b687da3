/** Debian's Chromium, driven by playwright-core: how the browser tests, the screenshots and the browser benchmark start it. */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const howToGetChromium = `install it with \`apt-get install -y chromium\` (it lands at /usr/bin/chromium), or point CHROMIUM_PATH at one`;

/**
 * Whether a browser test suite can run. CI must run it: a missing browser there is a failure, not a quiet skip;
 * elsewhere the suite is skipped, saying how to run it.
 */
export function chromiumForTests(suite: string): boolean {
  if (existsSync(chromiumPath)) return true;
  const inCi = Boolean(process.env.CI) && !/^(0|false)$/i.test(process.env.CI ?? '');
  if (inCi) throw new Error(`The ${suite} need Chromium at ${chromiumPath} and CI is set: ${howToGetChromium}`);
  process.stderr.write(`\n  ${suite} SKIPPED: no Chromium at ${chromiumPath}; ${howToGetChromium}\n\n`);
  return false;
}

export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
