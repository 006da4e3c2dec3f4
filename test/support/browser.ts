import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { AdminRole } from '../../api/src/modules/auth/permissions';

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

export const screenshotDir = path.resolve(__dirname, '..', '..', 'test-output', 'screenshots');

/** A full-page screenshot under test-output/screenshots/ (git-ignored), for reviewing what the tests saw. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/** Collects console errors and uncaught exceptions, so a test can assert the page logged none. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

interface AdminSession {
  /** The page of the current test (a fresh browser context each test). */
  readonly page: Page;
  /** Signs in as a new admin of `role`, landing on `path`. */
  signIn(role: AdminRole, path: string): Promise<void>;
  /** The trimmed text of the first element with this test id. */
  text(testId: string): Promise<string | undefined>;
}

/**
 * Chromium for a browser suite: one browser per file, a fresh 1280 px context per test with a 10 s step timeout,
 * and every test fails on a console error. `listen` starts the API and returns its base URL.
 */
export function useAdminBrowser(listen: () => Promise<string>, createAdmin: (role: AdminRole) => Promise<{ email: string; password: string }>): AdminSession {
  let browser: Browser;
  let baseUrl: string;
  let page: Page;
  let errors: string[];
  beforeAll(async () => {
    baseUrl = await listen();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    page.setDefaultTimeout(10_000);
    errors = collectPageErrors(page);
  });
  afterEach(async () => {
    await page.context().close();
    expect(errors).toEqual([]);
  });
  return {
    get page() {
      return page;
    },
    async signIn(role, path) {
      const admin = await createAdmin(role);
      await page.goto(`${baseUrl}${path}`);
      await page.getByLabel('Email').fill(admin.email);
      await page.getByLabel('Password').fill(admin.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
    },
    async text(testId) {
      return (await page.getByTestId(testId).first().textContent())?.trim();
    },
  };
}

/** Every button lies inside the viewport's width, and neither the page nor its table scrolls sideways to reach it. */
export async function expectOnScreen(page: Page, buttons: Locator): Promise<void> {
  const width = page.viewportSize()!.width;
  const all = await buttons.all();
  expect(all.length).toBeGreaterThan(0);
  for (const button of all) {
    const box = (await button.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(width);
    expect(await button.evaluate((b) => b.closest('.table-wrap')!.scrollWidth - b.closest('.table-wrap')!.clientWidth)).toBe(0);
  }
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
}
