import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { HistoryEntry } from '../../src-shared/rest.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import { launchBrowser, screenshot, screenText, signIn, waitFor, waitForScreen } from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// Dashboard security against a real `autodev serve`: bad and revoked tokens, read-only scope, and
// hostile agent output (field notes §4.1, §7 items 4, 5, 22).
let server: DashboardServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;

before(async () => {
  server = await startDashboardServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function freshPage(): Promise<{ page: Page; dialogs: string[]; urls: string[] }> {
  const page = await browser.context.newPage();
  const dialogs: string[] = [];
  const urls: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => {});
  });
  page.on('request', (r) => urls.push(r.url()));
  return { page, dialogs, urls };
}

const tab = (p: Page, name: string) =>
  p.locator('.tab', { has: p.getByRole('tab', { name: new RegExp(`^${name}`) }) });

async function history(sessionId: string): Promise<HistoryEntry[]> {
  return server.rest<HistoryEntry[]>(
    'GET',
    // keys: the raw key journal too, where a stray keystroke would show.
    `/cli/sessions/${sessionId}/history?limit=1000&message_type=command&keys=true`,
  );
}

test('bad tokens are refused with a clear message, and never leave the page in a URL', async () => {
  const { page, urls } = await freshPage();
  await page.goto(`${server.url}/`);
  const field = page.getByLabel('Access token');
  await field.fill('hello');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'not an AutoDev token' }).waitFor();

  // A well-formed token with a forged signature.
  const real = await server.token('control');
  const forged = `${real.slice(0, real.lastIndexOf('.') + 1)}${'A'.repeat(43)}`;
  await field.fill(forged);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'refused this token' }).waitFor({ timeout: 20_000 });
  assert.equal(
    await page.getByRole('navigation', { name: 'Main' }).count(),
    0,
    'still on the sign-in screen',
  );
  await screenshot(page, '20-bad-token');
  for (const url of urls) assert.equal(url.includes(forged.split('.')[2] ?? 'x'), false, url);
  assert.equal(
    await page.evaluate(() => sessionStorage.getItem('autodev.token')),
    null,
    'refused token not kept',
  );
  await page.close();
});

test('a token revoked while signed in sends the dashboard back to sign-in, saying why', async () => {
  const { page } = await freshPage();
  const { token, jti } = await server.issue('control');
  await signIn(page, server.url, token);
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
  await server.revoke(jti);
  await page
    .getByRole('alert')
    .filter({ hasText: /expired or was revoked/ })
    .waitFor({ timeout: 20_000 });
  await page.getByLabel('Access token').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('autodev.token')), null);
  await screenshot(page, '21-revoked');
  await page.close();
});

test('read-only token: banner, no create/terminate, and typing never reaches the agent', async () => {
  const target = await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', {
    cli_tool: 'shell',
    name: 'ro-target',
  });
  const id = target.session.session_id;

  const reader = await freshPage();
  await signIn(reader.page, server.url, await server.token('read'));
  const r = reader.page;
  await r.getByRole('note').filter({ hasText: 'Read-only' }).first().waitFor();
  assert.equal(await r.getByRole('button', { name: 'New session' }).count(), 0);
  await tab(r, 'ro-target').getByRole('tab').click();
  await waitForScreen(r, /[$#] ?$/m);
  assert.match(
    (await r.locator('.terminal-pane:not([hidden]) [data-note="ro"]').textContent()) ?? '',
    /Read-only/,
  );
  await r.locator('.terminal-pane:not([hidden]) .xterm').click();
  await r.keyboard.type('echo ro-typed-$((1+1))');
  await r.keyboard.press('Enter');

  // A control client types after the reader: once its output reaches the reader, anything the
  // reader's keys had done would be on screen already.
  const writer = await freshPage();
  const w = writer.page;
  await signIn(w, server.url, await server.token('control'));
  await tab(w, 'ro-target').getByRole('tab').click();
  await waitForScreen(w, /[$#] ?$/m);
  await w.locator('.terminal-pane:not([hidden]) .xterm').click();
  await w.keyboard.type('echo marker-$((6*7))');
  await w.keyboard.press('Enter');
  const seen = await waitForScreen(r, /^marker-42$/m);
  assert.doesNotMatch(seen, /ro-typed/);
  assert.doesNotMatch(await screenText(w), /ro-typed/);
  const typed = (await history(id)).map((h) => (h.message_type === 'command' ? h.command : '')).join('\n');
  assert.doesNotMatch(typed, /ro-typed/);
  await screenshot(r, '22-read-only');

  // Closing a tab in read-only mode only hides it: the session keeps running.
  await tab(r, 'ro-target').getByRole('button', { name: 'Close ro-target' }).click();
  await tab(r, 'ro-target').waitFor({ state: 'detached' });
  assert.equal(await r.getByRole('dialog').count(), 0);
  const still = await server.rest<SessionInfo>('GET', `/cli/sessions/${id}`);
  assert.equal(still.state === 'terminated' || still.state === 'completed', false);
  await r.close();
  await w.close();
});

test('hostile agent output: no script runs, no non-http link opens, only http(s) links open', async () => {
  const { page, dialogs } = await freshPage();
  const popups: Page[] = [];
  const linkRequests: string[] = [];
  const onPage = (p: Page) => {
    popups.push(p);
    p.on('request', (r) => linkRequests.push(r.url()));
  };
  browser.context.on('page', onPage);
  try {
    await signIn(page, server.url, await server.token('control'));
    await page.evaluate(() => {
      // Any violation report means something tried to run or load: record it for the assertion.
      (window as unknown as { cspViolations: string[] }).cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        (window as unknown as { cspViolations: string[] }).cspViolations.push(
          `${e.violatedDirective} ${e.blockedURI}`,
        ),
      );
    });
    await page.getByRole('button', { name: 'New session' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New session' });
    await dialog.getByLabel('Provider').selectOption({ label: 'XSS Agent — installed' });
    await dialog.getByLabel('Name (optional)').fill('hostile');
    await dialog.getByRole('button', { name: 'Create' }).click();
    const text = await waitForScreen(page, /xss-agent end/);
    assert.match(text, /<img src=x onerror=alert\(1\)>/);
    assert.match(text, /<script>alert\(2\)<\/script>/);
    assert.match(text, /javascript:alert\(4\)/);

    const injected = await page.evaluate(() => ({
      imgs: document.querySelectorAll('img').length,
      svgOnload: document.querySelectorAll('svg[onload]').length,
      scripts: Array.from(document.scripts).map((s) => s.src),
      onerror: document.querySelectorAll('[onerror]').length,
    }));
    assert.deepEqual(injected.imgs, 0);
    assert.deepEqual(injected.svgOnload, 0);
    assert.deepEqual(injected.onerror, 0);
    assert.ok(
      injected.scripts.every((src) => src.startsWith(`${server.url}/assets/`)),
      injected.scripts.join(),
    );

    const clickText = async (needle: string) => {
      const box = await page.evaluate((n) => {
        const pane = document.querySelector('.terminal-pane:not([hidden]) .xterm-rows');
        const walker = document.createTreeWalker(pane ?? document.body, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const i = (node.textContent ?? '').replace(/\u00a0/g, ' ').indexOf(n);
          if (i < 0) continue;
          const range = document.createRange();
          range.setStart(node, i);
          range.setEnd(node, i + n.length);
          const r = range.getBoundingClientRect();
          return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
        }
        return null;
      }, needle);
      assert.ok(box, `${needle} is on screen`);
      await page.mouse.move(box.x - 3, box.y);
      await page.mouse.move(box.x, box.y, { steps: 3 });
      return box;
    };

    // javascript: and file: OSC 8 hyperlinks, and the javascript: text: clicking does nothing.
    for (const needle of ['HERE-JS-LINK', 'HERE-FILE-LINK', 'javascript:alert(4)']) {
      await clickText(needle);
      await page.mouse.down();
      await page.mouse.up();
    }
    // Control: a plain http link does open (in a new, opener-less window), proving clicks reach links.
    let box = await clickText('http://127.0.0.1:9/xss-ok');
    await waitFor('pointer over the http link', async () => {
      const hovered = await page.evaluate(
        () => !!document.querySelector('.terminal-pane:not([hidden]) .xterm-cursor-pointer'),
      );
      // Where the link is now (the grid may have settled to the PTY's size meanwhile).
      if (!hovered) box = await clickText('http://127.0.0.1:9/xss-ok');
      return hovered;
    });
    await page.mouse.click(box.x, box.y);
    await waitFor('http link opened', () => linkRequests.length > 0);
    assert.deepEqual([...new Set(linkRequests)], ['http://127.0.0.1:9/xss-ok']);
    assert.equal(popups.length, 1, 'exactly one window opened: the http link');
    assert.deepEqual(dialogs, [], 'no alert/confirm/prompt ran');
    const violations = await page.evaluate(
      () => (window as unknown as { cspViolations: string[] }).cspViolations,
    );
    assert.deepEqual(violations, [], 'nothing even tried to run');
    await screenshot(page, '23-xss-output');
    for (const p of browser.context.pages()) if (p !== page && p.url() !== 'about:blank') await p.close();
  } finally {
    browser.context.off('page', onPage);
    await page.close();
  }
});
