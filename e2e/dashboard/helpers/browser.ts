import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SCREENSHOT_DIR = path.join(ROOT, 'test-results', 'screenshots');

/** Debian Chromium, headless, with the flags of field notes §8 (no background networking: this
 *  machine's closed network refuses it, many connections at a time). */
export const CHROMIUM_LAUNCH = {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
};

/** A desktop window (the default) or a phone: 390×844 CSS px at a device pixel ratio of 3, touch. */
export const DESKTOP = { viewport: { width: 1280, height: 800 } } as const;
export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
} as const;

export interface BrowserOptions {
  viewport?: { width: number; height: number };
  deviceScaleFactor?: number;
  isMobile?: boolean;
  hasTouch?: boolean;
  colorScheme?: 'dark' | 'light';
  /** Preferences the page starts with (default: dark theme, DOM renderer). Null: none stored. */
  preferences?: Record<string, unknown> | null;
}

/** Debian Chromium with a fresh profile (a separate browser: its own storage and sessions). */
export async function launchBrowser(
  options: BrowserOptions = {},
): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'autodev-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    ...CHROMIUM_LAUNCH,
    viewport: options.viewport ?? { width: 1280, height: 760 },
    ...(options.deviceScaleFactor ? { deviceScaleFactor: options.deviceScaleFactor } : {}),
    ...(options.isMobile ? { isMobile: true } : {}),
    ...(options.hasTouch ? { hasTouch: true } : {}),
    colorScheme: options.colorScheme ?? 'dark',
  });
  const preferences =
    options.preferences === undefined ? { theme: 'dark', fontSize: 14, gpu: 'off' } : options.preferences;
  // Tests read the screen from the DOM renderer's rows; the WebGL path has its own test, which turns
  // the preference back on. Only a default: a preference the page saved later wins.
  if (preferences)
    await context.addInitScript((prefs) => {
      if (!localStorage.getItem('autodev.preferences'))
        localStorage.setItem('autodev.preferences', JSON.stringify(prefs));
    }, preferences);
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The committed screenshots of every view (docs/screenshots/), for people to look at. */
export const DOC_SCREENSHOT_DIR = path.join(ROOT, 'docs', 'screenshots');

export async function docScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(DOC_SCREENSHOT_DIR, { recursive: true });
  const file = path.join(DOC_SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The page scrolls sideways when its content is wider than the viewport: that must never happen. */
export async function horizontalOverflow(
  page: Page,
): Promise<{ scrollWidth: number; width: number; culprits: string[] }> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const culprits = Array.from(document.querySelectorAll<HTMLElement>('body *'))
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return r.width > 0 && r.right > width + 1 && getComputedStyle(el).position !== 'fixed';
      })
      .filter((el) => !el.closest('.tabs, .terminal-host, .phone-keys, .table-scroll, [data-scroll-x]'))
      .slice(0, 8)
      .map(
        (el) =>
          `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} right=${Math.round(el.getBoundingClientRect().right)}`,
      );
    return { scrollWidth: document.scrollingElement?.scrollWidth ?? 0, width, culprits };
  });
}

/**
 * How many pixels of an element's screenshot differ from its most common colour: text on a terminal
 * (whatever the renderer, DOM or WebGL) lights some; a blank terminal lights none. The PNG is decoded
 * by the page itself (img-src allows data: URLs).
 */
export async function litPixels(page: Page, selector: string): Promise<number> {
  const png = await page.locator(selector).screenshot();
  return page.evaluate(async (base64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${base64}`;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = img.width;
    canvas.height = img.height;
    const ctx = canvas.getContext('2d');
    if (!ctx) return 0;
    ctx.drawImage(img, 0, 0);
    const data = ctx.getImageData(0, 0, img.width, img.height).data;
    const counts = new Map<number, number>();
    for (let i = 0; i < data.length; i += 4) {
      const key = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const background = Math.max(...counts.values());
    return data.length / 4 - background;
  }, png.toString('base64'));
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `dashboard-${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Poll `fn` until it returns a truthy value (generous deadline: the machine is shared). */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T> | T,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what} (last: ${String(last).slice(0, 500)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Text of the visible terminal (xterm DOM renderer rows), spaces normalised, trailing blanks trimmed. */
export async function screenText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const pane = document.querySelector('.terminal-pane:not([hidden])');
    const rows = pane?.querySelectorAll('.xterm-rows > div') ?? [];
    return Array.from(rows)
      .map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd())
      .join('\n')
      .trimEnd();
  });
}

export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Access token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 20_000 });
}

export async function waitForScreen(page: Page, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  return waitFor(
    `screen to match ${pattern}`,
    async () => {
      const text = await screenText(page);
      return pattern.test(text) ? text : '';
    },
    timeoutMs,
  );
}
