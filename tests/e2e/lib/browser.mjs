// Debian's Chromium, headless, driven by playwright-core. No browser is ever
// downloaded: playwright-core has no download step, and the executable is fixed.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './server.mjs';

export const CHROMIUM = process.env.QMTRACK_CHROMIUM || '/usr/bin/chromium';

/// Where each journey's closing screenshot is kept (gitignored).
export const ARTEFACTS = join(repoRoot, 'tests', 'e2e', 'artefacts');

export async function launch() {
  mkdirSync(ARTEFACTS, { recursive: true });
  // playwright passes a fresh, empty --user-data-dir of its own for each launch.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/// A desktop-sized window with its own cookies: one person at their computer.
export async function person(browser, base) {
  const context = await browser.newContext({
    baseURL: base,
    viewport: { width: 1024, height: 768 },
    acceptDownloads: true,
    locale: 'en-GB',
    timezoneId: 'Europe/London',
  });
  context.setDefaultTimeout(15_000);
  return context.newPage();
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(ARTEFACTS, `${name}.png`), fullPage: true });
}
