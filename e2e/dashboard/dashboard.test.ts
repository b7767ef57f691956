import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import type { Page as ApiPage } from '../../src-shared/rest.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import { launchBrowser, screenshot, screenText, signIn, waitFor, waitForScreen } from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// The LAN dashboard against a real `autodev serve` (real PTYs, SQLite, WebSockets) in Debian Chromium.
let server: DashboardServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;
let page: Page;

before(async () => {
  server = await startDashboardServer();
  browser = await launchBrowser();
  context = browser.context;
  page = await context.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const tab = (p: Page, name: string) =>
  p.locator('.tab', { has: p.getByRole('tab', { name: new RegExp(`^${name}`) }) });

async function createFromDialog(p: Page, providerLabel: RegExp, name: string): Promise<void> {
  await p.getByRole('button', { name: 'New session' }).first().click();
  const dialog = p.getByRole('dialog', { name: 'New session' });
  await dialog.waitFor();
  const select = dialog.getByLabel('Provider');
  const option = await waitFor('provider option', async () => {
    const options = await select.locator('option').allTextContents();
    return options.find((o) => providerLabel.test(o));
  });
  await select.selectOption({ label: option });
  await dialog.getByLabel('Name (optional)').fill(name);
  if (name === 'first') await screenshot(p, '02a-new-session-dialog');
  await dialog.getByLabel('Name (optional)').press('Enter');
  await dialog.waitFor({ state: 'detached', timeout: 20_000 });
  await tab(p, name).waitFor({ timeout: 20_000 });
}

async function sessionByName(name: string): Promise<SessionInfo> {
  const page = await server.rest<ApiPage<SessionInfo>>('GET', '/cli/sessions?limit=500');
  const found = page.items.find((s) => s.name === name);
  assert.ok(found, `session ${name} exists`);
  return found;
}

test('sign in with a token: connected, token never in a URL', async () => {
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  const token = await server.token('control');
  await signIn(page, server.url, token);
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
  assert.equal(page.url(), `${server.url}/`);
  assert.ok(urls.length > 0);
  for (const url of urls) assert.equal(url.includes(token), false, `token leaked into ${url}`);
  const stored = await page.evaluate(() => ({
    local: JSON.stringify(localStorage),
    cookie: document.cookie,
  }));
  assert.equal(stored.local.includes(token), false, 'token not in localStorage');
  assert.equal(stored.cookie, '', 'no cookies');
  await screenshot(page, '01-signed-in-empty');
});

test('create a shell session from the dialog, type `echo hello`, see it on screen', async () => {
  await createFromDialog(page, /^Shell/, 'first');
  await waitForScreen(page, /[$#] ?$/m);
  await page.locator('.terminal-pane:not([hidden]) .xterm').click();
  await page.keyboard.type('echo hello');
  await page.keyboard.press('Enter');
  const text = await waitForScreen(page, /^hello$/m);
  assert.match(text, /echo hello/);
  assert.equal(await tab(page, 'first').getByRole('tab').getAttribute('aria-selected'), 'true');
  await screenshot(page, '02-shell-echo-hello');
});

test('two sessions: switching tabs keeps each screen', async () => {
  await createFromDialog(page, /^Shell/, 'second');
  await waitForScreen(page, /[$#] ?$/m);
  await page.locator('.terminal-pane:not([hidden]) .xterm').click();
  await page.keyboard.type('echo second-$((20+22))');
  await page.keyboard.press('Enter');
  await waitForScreen(page, /^second-42$/m);
  assert.doesNotMatch(await screenText(page), /^hello$/m);

  await tab(page, 'first').getByRole('tab').click();
  const first = await waitForScreen(page, /^hello$/m);
  assert.doesNotMatch(first, /second-42/);
  // Alt+2 goes back to the second tab.
  await page.keyboard.press('Alt+2');
  await waitForScreen(page, /^second-42$/m);
  assert.equal(await tab(page, 'second').getByRole('tab').getAttribute('aria-selected'), 'true');
  await screenshot(page, '03-two-tabs');
});

test('reload restores tabs and the exact screen, without duplicated output', async () => {
  const before = await screenText(page);
  await page.reload();
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 20_000 });
  await tab(page, 'second').waitFor();
  assert.equal(await tab(page, 'second').getByRole('tab').getAttribute('aria-selected'), 'true');
  const after = await waitForScreen(page, /^second-42$/m);
  assert.equal((after.match(/^second-42$/gm) ?? []).length, 1, 'output shown once');
  assert.equal((after.match(/echo second-/g) ?? []).length, 1, 'command echo shown once');
  // The restored screen is the same screen (prompt line included).
  assert.equal(after.split('\n').filter(Boolean).join('\n'), before.split('\n').filter(Boolean).join('\n'));
  await tab(page, 'first').waitFor();
  await screenshot(page, '04-after-reload');
});

test('a background session that starts waiting is marked until seen; the title counts it', async () => {
  // Created elsewhere (REST): it arrives through the live events channel as a background tab.
  await server.rest('POST', '/cli/sessions', { cli_tool: 'fakeagent', name: 'bg-agent' });
  const bg = tab(page, 'bg-agent');
  await bg.waitFor({ timeout: 20_000 });
  await waitFor('attention mark', async () => (await bg.getAttribute('class'))?.includes('tab-attention'));
  assert.equal(await bg.locator('[data-state]').getAttribute('data-state'), 'waiting');
  await waitFor('title count', async () => (await page.title()) === '(1) AutoDev');
  assert.match((await bg.getByRole('tab').getAttribute('aria-label')) ?? '', /needs your attention/);
  await screenshot(page, '05-background-marked');
  await bg.getByRole('tab').click();
  await waitFor('mark cleared', async () => !(await bg.getAttribute('class'))?.includes('tab-attention'));
  await waitFor('title reset', async () => (await page.title()) === 'AutoDev');
  // It works, then waits again: while in view it is not marked.
  await page.locator('.terminal-pane:not([hidden]) .xterm').click();
  await page.keyboard.type('build it');
  await page.keyboard.press('Enter');
  await waitForScreen(page, /done: build it$/m);
  assert.equal((await bg.getAttribute('class'))?.includes('tab-attention'), false);
});

test("a fake agent's login menu shows the auth badge and the agent's prompt", async () => {
  await server.rest('POST', '/cli/sessions', { cli_tool: 'fakelogin', name: 'needs-login' });
  const t = tab(page, 'needs-login');
  await t.waitFor({ timeout: 20_000 });
  await waitFor(
    'auth badge',
    async () => (await t.locator('[data-state]').getAttribute('data-state')) === 'auth',
  );
  assert.match((await t.locator('[data-state]').getAttribute('title')) ?? '', /Select login method/);
  await t.getByRole('tab').click();
  const banner = page.locator('.terminal-pane:not([hidden]) [data-note="auth"]');
  await banner.waitFor();
  assert.match((await banner.textContent()) ?? '', /Sign-in required — .*Select login method/);
  await waitForScreen(page, /Select login method/);
  await screenshot(page, '06-auth-required');
  // Details panel: state, reason and its source.
  await page.getByRole('button', { name: 'Show session details' }).click();
  const detail = page.getByRole('complementary', { name: 'Details of needs-login' });
  await detail.waitFor();
  assert.match((await detail.locator('[data-field="reason"]').textContent()) ?? '', /Select login method/);
  assert.match((await detail.locator('[data-field="state"]').textContent()) ?? '', /authentication required/);
  await screenshot(page, '07-session-detail');
  await page.getByRole('button', { name: 'Hide session details' }).click();
});

test('terminate: closing a running session asks first, then ends it', async () => {
  await tab(page, 'first').getByRole('button', { name: 'Close first' }).click();
  const dialog = page.getByRole('dialog', { name: 'Stop first?' });
  await dialog.waitFor();
  await screenshot(page, '08-close-confirmation');
  await dialog.getByRole('button', { name: 'Terminate' }).click();
  await tab(page, 'first').waitFor({ state: 'detached', timeout: 20_000 });
  const ended = await waitFor('terminated state', async () => {
    const s = await sessionByName('first');
    return s.state === 'terminated' || s.state === 'completed' ? s : null;
  });
  assert.ok(ended?.ended_at);
});

test('sessions view lists ended sessions, searches output, and replays a transcript', async () => {
  await page.getByRole('button', { name: 'Sessions', exact: true }).click();
  const row = page.locator('tr[data-session-id]', { hasText: 'first' });
  await row.waitFor({ timeout: 20_000 });
  await page.getByLabel('State').selectOption('ended');
  await waitFor('only ended rows', async () => {
    const names = await page.locator('tr[data-session-id]').allInnerTexts();
    return (
      names.length > 0 &&
      names.every((n) => n.includes('first') || n.includes('Exited') || n.includes('Terminated'))
    );
  });
  // Output reaches the full-text index shortly after it is printed: search again until it is there.
  await page.getByLabel('Search output').fill('hello');
  await waitFor('search hit', async () => {
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('.search-results').waitFor();
    return (await page.locator('.search-results mark').allTextContents()).some((t) => /hello/i.test(t));
  });
  await screenshot(page, '09-sessions-search');
  await row.getByRole('button', { name: 'Replay' }).click();
  const replay = page.getByRole('region', { name: 'Replay of first' });
  await replay.waitFor();
  await waitFor('replayed output', async () =>
    ((await replay.locator('.xterm-rows').textContent()) ?? '').replace(/\u00a0/g, ' ').includes('hello'),
  );
  await screenshot(page, '10-replay');
  await replay.getByRole('button', { name: 'Close replay' }).click();
  await page.getByRole('button', { name: 'Terminals' }).click();
});

test('settings: theme switch applies to the page and the terminal', async () => {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Light').check();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'light');
  await screenshot(page, '11-settings-light');
  await page.getByRole('button', { name: 'Terminals' }).click();
  await tab(page, 'second').getByRole('tab').click();
  await waitForScreen(page, /second-42/);
  await screenshot(page, '12-terminal-light');
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Dark').check();
  await page.getByRole('button', { name: 'Terminals' }).click();
});

test('WebGL only on the visible terminal; hidden tabs give their context back', async () => {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel(/GPU-accelerated terminal/).check();
  await page.getByRole('button', { name: 'Terminals' }).click();
  await tab(page, 'second').getByRole('tab').click();
  const visible = page.locator('.terminal-pane:not([hidden])');
  // WebGL where the browser has it (software GL here), otherwise the DOM renderer: never blank.
  const renderer = await waitFor('renderer', async () => visible.getAttribute('data-renderer'));
  const hidden = await page
    .locator('.terminal-pane[hidden]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-renderer')));
  assert.ok(hidden.length >= 2);
  assert.deepEqual(new Set(hidden), new Set(['dom']), 'hidden terminals hold no WebGL context');
  if (renderer === 'webgl') {
    await tab(page, 'bg-agent').getByRole('tab').click();
    await waitFor(
      'old tab released',
      async () => (await page.locator('.terminal-pane[hidden][data-renderer="webgl"]').count()) === 0,
    );
    assert.equal(await page.locator('.terminal-pane:not([hidden])').getAttribute('data-renderer'), 'webgl');
  }
  await screenshot(page, '13-webgl');
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel(/GPU-accelerated terminal/).uncheck();
  await page.getByRole('button', { name: 'Terminals' }).click();
});

test('keyboard: Alt+N and Alt+J move between sessions; the chords a browser keeps are not taken', async () => {
  await page.getByRole('button', { name: 'Terminals' }).click();
  await tab(page, 'second').getByRole('tab').click();
  await page.locator('.terminal-pane:not([hidden]) .xterm').click();
  // Ctrl+Shift+T belongs to the browser (reopen closed tab): the dashboard does not claim it.
  await page.keyboard.press('Control+Shift+T');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await page.getByRole('dialog', { name: 'New session' }).count(), 0);
  const selected = async () =>
    (await page.locator('[role="tab"][aria-selected="true"]').getAttribute('aria-label')) ?? '';
  await page.keyboard.press('Alt+1');
  await waitFor('first tab selected', async () => /^second/.test(await selected()));
  await page.keyboard.press('Alt+2');
  await waitFor('second tab selected', async () => /^bg-agent/.test(await selected()));
  await page.keyboard.press('Alt+1');
  await waitFor('back to the first tab', async () => /^second/.test(await selected()));
});

test('rename a tab with F2', async () => {
  await tab(page, 'bg-agent').getByRole('tab').focus();
  await page.keyboard.press('F2');
  const input = page.getByRole('textbox', { name: 'Session name' });
  await input.fill('renamed-agent');
  await input.press('Enter');
  await tab(page, 'renamed-agent').waitFor({ timeout: 20_000 });
  await waitFor(
    'server knows the name',
    async () => (await sessionByName('renamed-agent')).cli_tool === 'fakeagent',
  );
});

test('a flood of output does not freeze the page and ends on the right screen', async () => {
  await tab(page, 'second').getByRole('tab').click();
  await page.locator('.terminal-pane:not([hidden]) .xterm').click();
  await page.keyboard.type('seq 1 200000; echo flood-$((1+2))-done');
  await page.keyboard.press('Enter');
  // While it floods, the app still answers: switch views and back.
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('heading', { name: 'Appearance' }).waitFor({ timeout: 20_000 });
  await page.getByRole('button', { name: 'Terminals' }).click();
  const text = await waitForScreen(page, /^flood-3-done$/m, 120_000);
  assert.match(text, /^200000$/m);
  await screenshot(page, '14-after-flood');
});

test('connection drop: status says reconnecting, then the terminal resumes without gaps or duplicates', async () => {
  const p = await context.newPage();
  let blocked = false;
  const routes: { close(o?: { code?: number; reason?: string }): Promise<void> }[] = [];
  await p.routeWebSocket(/\/cli\/(events\/ws|session\/[^/]+\/ws)$/, (ws) => {
    if (blocked) {
      void ws.close({ code: 4000, reason: 'offline (test)' });
      return;
    }
    ws.connectToServer();
    routes.push(ws);
  });
  try {
    await signIn(p, server.url, await server.token('control'));
    await tab(p, 'second').getByRole('tab').click();
    await waitForScreen(p, /flood-3-done/);
    blocked = true;
    for (const r of routes.splice(0)) await r.close({ code: 4000, reason: 'offline (test)' });
    await p
      .getByRole('status')
      .filter({ hasText: /Reconnecting|Connecting/ })
      .first()
      .waitFor({ timeout: 20_000 });
    await p.locator('.terminal-pane:not([hidden]) [data-note="conn"]').waitFor({ timeout: 20_000 });
    await screenshot(p, '15-reconnecting');

    // Meanwhile another client prints in the same session.
    await tab(page, 'second').getByRole('tab').click();
    await page.locator('.terminal-pane:not([hidden]) .xterm').click();
    await page.keyboard.type('clear; echo while-away-$((3*3))');
    await page.keyboard.press('Enter');
    await waitForScreen(page, /^while-away-9$/m);

    blocked = false;
    await p.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 30_000 });
    const text = await waitForScreen(p, /^while-away-9$/m, 30_000);
    assert.equal((text.match(/^while-away-9$/gm) ?? []).length, 1, 'missed output shown once');
    assert.equal(await p.locator('.terminal-pane:not([hidden]) [data-note="conn"]').count(), 0);
    // Both views show the same screen.
    assert.equal((await screenText(page)).trim(), text.trim());
    await screenshot(p, '16-resumed');
  } finally {
    await p.close();
  }
});

test('search in scrollback and font zoom', async () => {
  await tab(page, 'second').getByRole('tab').click();
  await page.locator('.terminal-pane:not([hidden]) .xterm').click();
  await page.keyboard.press('Control+Shift+F');
  const box = page.getByRole('search', { name: 'Search in scrollback' });
  await box.waitFor();
  await box.getByLabel('Search text').fill('while-away');
  await box.getByLabel('Search text').press('Enter');
  // Not `.xterm-selection div`: with the WebGL renderer the selection is drawn on a canvas.
  // The match count: while-away-9 was printed once and typed once (echoed), so two matches.
  await waitFor('match count', async () =>
    /^\d+ of \d+$/.test((await box.getByRole('status').textContent()) ?? ''),
  );
  await box.getByLabel('Search text').fill('no-such-text-anywhere');
  await box.getByLabel('Search text').press('Enter');
  await waitFor(
    'no match reported',
    async () => (await box.getByRole('status').textContent()) === 'No match',
  );
  await screenshot(page, '18-search');
  await box.getByLabel('Search text').press('Escape');
  await box.waitFor({ state: 'detached' });

  const rowHeight = () =>
    page.evaluate(
      () =>
        document.querySelector('.terminal-pane:not([hidden]) .xterm-rows > div')?.getBoundingClientRect()
          .height ?? 0,
    );
  const before = await rowHeight();
  // In the dashboard Ctrl+= zooms the page (the browser's), so the terminal font is a setting.
  const setFont = async (size: number) => {
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Terminal font size').fill(String(size));
    await page.getByRole('button', { name: 'Terminals' }).click();
  };
  await setFont(18);
  await waitFor('bigger font', async () => (await rowHeight()) > before);
  await setFont(14);
  await waitFor('font reset', async () => (await rowHeight()) === before);
});
