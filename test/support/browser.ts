import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (apt-get install -y chromium); a test tool's own browser download does not work offline. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: CHROMIUM_FLAGS, headless: true });
}

/**
 * In CI a missing browser is a failure. Elsewhere the browser suites are reported as skipped (never passed),
 * with the command that installs it.
 */
export function describeInBrowser(name: string, fn: () => void): void {
  if (existsSync(chromiumPath)) return describe(name, fn);
  if (process.env.CI) {
    throw new Error(`Chromium not found at ${chromiumPath}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  // eslint-disable-next-line no-console
  console.warn(`Skipping browser tests: no Chromium at ${chromiumPath} (apt-get install -y chromium, or set CHROMIUM_PATH)`);
  describe.skip(name, fn);
}
