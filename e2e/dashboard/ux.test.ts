import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { SessionInfo } from '../../src-shared/session.ts';
import { DESKTOP, launchBrowser, screenText, signIn, waitFor, waitForScreen } from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// Issue 16's "broken today" items 3–7 and 9, each as a user meets it in Chromium at 1280×800.
let server: DashboardServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;
let page: Page;

before(async () => {
  server = await startDashboardServer();
  browser = await launchBrowser(DESKTOP);
  context = browser.context;
  page = await context.newPage();
  await signIn(page, server.url, await server.token('control'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const tab = (p: Page, name: string) => p.getByRole('tab', { name: new RegExp(`^${name}`) });
const pane = (p: Page) => p.locator('.terminal-pane:not([hidden])');

async function newShell(name: string): Promise<SessionInfo> {
  const { session } = await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', {
    cli_tool: 'shell',
    name,
  });
  await tab(page, name).click();
  await waitForScreen(page, /[$#] ?$/m);
  return session;
}

/** The page fits the window: no scrollbar on the page itself, nothing below the fold. */
async function pageFits(p: Page): Promise<{ ok: boolean; detail: string }> {
  return p.evaluate(() => {
    const doc = document.scrollingElement ?? document.documentElement;
    const height = window.innerHeight;
    const tall = Array.from(document.querySelectorAll<HTMLElement>('.app *'))
      .filter((el) => {
        const r = el.getBoundingClientRect();
        return (
          r.height > 0 &&
          r.bottom > height + 1 &&
          !el.closest(
            '[data-scroller], .inbox-scroll, .side-panel, .sessions-view, .tasks-view, .settings-scroll, .terminal-host, .task-detail',
          )
        );
      })
      .slice(0, 5)
      .map(
        (el) =>
          `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} bottom=${Math.round(el.getBoundingClientRect().bottom)}`,
      );
    return {
      ok: doc.scrollHeight <= doc.clientHeight && tall.length === 0,
      detail: `scrollHeight ${doc.scrollHeight} in ${doc.clientHeight}; below the fold: ${tall.join(', ')}`,
    };
  });
}

test('3. a provider without an API key says the CLI will sign in, and starts', async () => {
  await page.getByRole('button', { name: 'New session' }).first().click();
  const dialog = page.getByRole('dialog', { name: 'New session' });
  const select = dialog.getByLabel('Provider');
  await waitFor(
    'key agent listed',
    async () => (await select.locator('option[value="keyagent"]').count()) === 1,
  );
  await select.selectOption('keyagent');
  const hint = dialog.locator('#provider-status');
  const text = (await hint.textContent()) ?? '';
  assert.match(text, /no API key set \(FAKE_AGENT_API_KEY\); the CLI's own sign-in will be used/);
  assert.doesNotMatch(text, /Cannot start|missing environment/);
  await dialog.getByLabel('Name (optional)').fill('keyless');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await dialog.waitFor({ state: 'detached', timeout: 20_000 });
  await waitForScreen(page, /prompt-agent ready/);
  // Settings says the same.
  await page.getByRole('button', { name: 'Settings' }).click();
  const row = page.locator('tr[data-provider="keyagent"] [data-field="readiness"]');
  assert.match(
    (await row.textContent()) ?? '',
    /^ready — no API key set .*the CLI's own sign-in will be used/,
  );
  assert.doesNotMatch((await page.locator('.settings').textContent()) ?? '', /missing environment/);
  await page.getByRole('button', { name: /^Terminals/ }).click();
});

test('4. paste: Ctrl+V and Ctrl+Shift+V paste (bracketed, ESC stripped); the header allows it; no reserved chords advertised', async () => {
  const headers = (await fetch(`${server.url}/`)).headers;
  assert.doesNotMatch(headers.get('permissions-policy') ?? '', /clipboard-read=\(\)/);
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  await newShell('paste-here');
  const clip = (text: string) => page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await pane(page).locator('.xterm').click();

  await clip('echo pasted-$((40+2))');
  await page.keyboard.press('Control+V');
  await waitForScreen(page, /echo pasted-\$\(\(40\+2\)\)$/m);
  await page.keyboard.press('Enter');
  await waitForScreen(page, /^pasted-42$/m);

  // A paste cannot smuggle control sequences: the ESC of a fake end-of-paste marker is dropped.
  await clip('echo a\u001b[201~b; echo shift-$((3*3))');
  await page.keyboard.press('Control+Shift+V');
  await page.keyboard.press('Enter');
  await waitForScreen(page, /^shift-9$/m);
  assert.match(await screenText(page), /^a\[201~b$/m);

  await page.getByRole('button', { name: 'Settings' }).click();
  const shortcuts = (await page.locator('.shortcuts').textContent()) ?? '';
  for (const reserved of ['Ctrl+Shift+T', 'Ctrl+Shift+W', 'Ctrl+Tab'])
    assert.ok(!shortcuts.includes(reserved), `${reserved} is a browser's own chord`);
  assert.match(shortcuts, /Ctrl\+V/);
  const titles = await page.evaluate(() =>
    Array.from(document.querySelectorAll('[title]'))
      .map((e) => e.getAttribute('title') ?? '')
      .join('\n'),
  );
  assert.doesNotMatch(titles, /Ctrl\+Shift\+[TW]|Ctrl\+Tab/);
  await page.getByRole('button', { name: /^Terminals/ }).click();
});

test('5. relative times move on their own', async () => {
  await tab(page, 'paste-here').click();
  await page.getByRole('button', { name: 'Show session details' }).click();
  const started = page.locator('[data-field="started"]');
  const first = (await started.textContent()) ?? '';
  assert.match(first, /s ago|min ago/);
  await waitFor(
    'the age to change without any event',
    async () => (await started.textContent()) !== first,
    6000,
  );
  await page.getByRole('button', { name: 'Hide session details' }).click();
});

test('6. layout: search, read-only, settings, the detail panel and task detail fit the window', async () => {
  // Scrollback search floats: opening it adds no page scrollbar.
  await tab(page, 'paste-here').click();
  await pane(page).locator('.xterm').click();
  await page.keyboard.press('Control+Shift+F');
  await page.getByRole('search', { name: 'Search in scrollback' }).waitFor();
  let fits = await pageFits(page);
  assert.ok(fits.ok, `with search open: ${fits.detail}`);
  await page.keyboard.press('Escape');

  // The detail panel's Terminate button is on screen (not cut off).
  await page.getByRole('button', { name: 'Show session details' }).click();
  const terminate = page.getByRole('button', { name: 'Terminate' });
  await terminate.scrollIntoViewIfNeeded();
  const box = await terminate.boundingBox();
  assert.ok(
    box && box.y + box.height <= 800 && box.x + box.width <= 1280,
    `Terminate at ${JSON.stringify(box)}`,
  );
  const hit = await page.evaluate(
    ({ x, y }) => document.elementFromPoint(x, y)?.closest('button')?.textContent ?? '',
    { x: box.x + box.width / 2, y: box.y + box.height / 2 },
  );
  assert.match(hit, /Terminate/);
  fits = await pageFits(page);
  assert.ok(fits.ok, `with details open: ${fits.detail}`);
  await page.getByRole('button', { name: 'Hide session details' }).click();

  // Settings: one page-wide scroller, the content using the width instead of a 900 px column.
  await page.getByRole('button', { name: 'Settings' }).click();
  const scroller = await page.locator('.settings-scroll').boundingBox();
  const content = await page.locator('.settings').boundingBox();
  assert.ok(
    scroller && Math.round(scroller.x + scroller.width) === 1280,
    `scroller ${JSON.stringify(scroller)}`,
  );
  assert.ok(content && content.width >= 0.8 * 1280, `settings content ${JSON.stringify(content)}`);
  fits = await pageFits(page);
  assert.ok(fits.ok, `settings: ${fits.detail}`);

  // Read-only: the notice takes no page height and hides no control.
  const reader = await context.newPage();
  try {
    await signIn(reader, server.url, await server.token('read'));
    await tab(reader, 'paste-here').click();
    fits = await pageFits(reader);
    assert.ok(fits.ok, `read-only: ${fits.detail}`);
    for (const label of ['Search in scrollback', 'Show session details']) {
      const b = await reader.getByRole('button', { name: label }).boundingBox();
      assert.ok(
        b && b.x + b.width <= 1280 && b.y >= 0 && b.y + b.height <= 800,
        `${label} at ${JSON.stringify(b)}`,
      );
    }
  } finally {
    await reader.close();
  }

  // Task detail: one scrollbar (the panel), not a second one inside it.
  await server.rest('POST', '/tasks', {
    tasks: [{ cli_tool: 'oneshot', prompt: 'tick:1500 long-output', working_directory: server.dataDir }],
  });
  await page.getByRole('button', { name: 'Tasks' }).click();
  const row = page.locator('.task-row', { hasText: 'long-output' });
  await row.locator('[data-task-state="passed"]').waitFor({ timeout: 30_000 });
  await row.locator('.task-open').click();
  const detail = page.getByRole('complementary', { name: /^Task / });
  await detail.locator('.task-outputs li').nth(20).waitFor({ timeout: 20_000 });
  const scrollers = await detail.evaluate((root) =>
    [root, ...Array.from(root.querySelectorAll<HTMLElement>('*'))]
      .filter((el) => {
        const style = getComputedStyle(el);
        return /(auto|scroll)/.test(style.overflowY) && el.scrollHeight > el.clientHeight + 1;
      })
      .map((el) => el.className),
  );
  assert.equal(scrollers.length, 1, `scrollbars in the task detail: ${scrollers.join(', ')}`);
  fits = await pageFits(page);
  assert.ok(fits.ok, `task detail: ${fits.detail}`);
  await page.getByRole('button', { name: 'Close task details' }).click();
});

test('7. history search: current names, one hit per redrawn screen, a placeholder that fits, a match count', async () => {
  // The redraw agent paints the same panel five times.
  const { session } = await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', {
    cli_tool: 'redrawagent',
    name: 'painter',
  });
  await page.getByRole('button', { name: /^Terminals/ }).click();
  await tab(page, 'painter').click();
  await waitForScreen(page, /frame 5/);
  // Renamed after it printed: the hits must say the new name.
  await page.getByRole('tab', { name: /^painter/ }).dblclick();
  await page.getByRole('textbox', { name: 'Session name' }).fill('renamed-painter');
  await page.getByRole('textbox', { name: 'Session name' }).press('Enter');
  await tab(page, 'renamed-painter').waitFor();
  // Stored once more output follows (the store confirms a tail holds no secret), then searchable.
  await pane(page).locator('.xterm').click();
  await page.keyboard.type('x'.repeat(300));
  await page.keyboard.press('Enter');

  await page.getByRole('button', { name: 'Sessions', exact: true }).click();
  const search = page.getByRole('searchbox');
  // The placeholder is readable in full.
  const placeholder = await search.evaluate((input: HTMLInputElement) => {
    const ctx = document.createElement('canvas').getContext('2d');
    const style = getComputedStyle(input);
    if (!ctx) return { text: input.placeholder, needed: 0, room: 0 };
    ctx.font = `${style.fontSize} ${style.fontFamily}`;
    const room =
      input.clientWidth - Number.parseFloat(style.paddingLeft) - Number.parseFloat(style.paddingRight);
    return { text: input.placeholder, needed: ctx.measureText(input.placeholder).width, room };
  });
  assert.ok(placeholder.needed <= placeholder.room, JSON.stringify(placeholder));
  await search.fill('zanzibar');
  const hits = page.locator(`.search-results .hit[data-session-id="${session.session_id}"]`);
  await waitFor('hits for the redrawn word', async () => {
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    return (await hits.count()) > 0;
  });
  assert.equal(await hits.count(), 1, 'five redraws of one screen are one result');
  assert.ok(Number(await hits.first().getAttribute('data-hits')) >= 2, 'the group counts its hits');
  assert.equal(await hits.first().locator('.hit-name').textContent(), 'renamed-painter');

  // Scrollback search counts matches.
  await page.getByRole('button', { name: /^Terminals/ }).click();
  await tab(page, 'renamed-painter').click();
  await pane(page).locator('.xterm').click();
  await page.keyboard.press('Control+Shift+F');
  const box = page.getByRole('search', { name: 'Search in scrollback' });
  await box.getByLabel('Search text').fill('frame');
  await box.getByLabel('Search text').press('Enter');
  await waitFor('a match count', async () =>
    /^\d+ of \d+$/.test((await box.getByRole('status').textContent()) ?? ''),
  );
  await box.getByLabel('Search text').press('Escape');
});

test('9. one theme from the first screen: a light browser gets a light sign-in; percentile bars are one hue', async () => {
  const light = await launchBrowser({ ...DESKTOP, colorScheme: 'light', preferences: null });
  try {
    const p = await light.context.newPage();
    await p.goto(`${server.url}/`);
    await p.getByLabel('Access token').waitFor();
    assert.equal(await p.evaluate(() => document.documentElement.dataset.theme), 'light');
    const bg = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number);
    assert.ok((r ?? 0) > 200 && (g ?? 0) > 200 && (b ?? 0) > 200, `sign-in background ${bg}`);
    await signIn(p, server.url, await server.token('control'));
    assert.equal(await p.evaluate(() => document.documentElement.dataset.theme), 'light');
  } finally {
    await light.close();
  }
  await page.getByRole('button', { name: 'Tasks' }).click();
  // The charts draw once the metrics arrive (a loaded machine takes a moment).
  await page.locator('.bar-p50').first().waitFor({ timeout: 20_000 });
  const fills = await page.evaluate(() => {
    const fill = (cls: string) => {
      const el = document.querySelector(`.${cls}`);
      return el ? getComputedStyle(el).fill : null;
    };
    const probe = (name: string) => {
      const d = document.createElement('div');
      d.style.color = `var(--${name})`;
      document.body.append(d);
      const c = getComputedStyle(d).color;
      d.remove();
      return c;
    };
    return {
      p50: fill('bar-p50'),
      p95: fill('bar-p95'),
      p99: fill('bar-p99'),
      ok: probe('ok'),
      warn: probe('warn'),
      danger: probe('danger'),
    };
  });
  assert.ok(fills.p50 && fills.p95 && fills.p99, JSON.stringify(fills));
  for (const bar of [fills.p50, fills.p95, fills.p99])
    assert.ok(
      ![fills.ok, fills.warn, fills.danger].includes(bar),
      `${bar} reads as good/bad: ${JSON.stringify(fills)}`,
    );
  // One hue: blue dominates every percentile bar.
  for (const bar of [fills.p50, fills.p95, fills.p99]) {
    const [r, g, b] = (bar?.match(/\d+/g) ?? []).map(Number);
    assert.ok((b ?? 0) > (r ?? 0) && (b ?? 0) > (g ?? 0), `${bar} is a shade of the accent`);
  }
});
