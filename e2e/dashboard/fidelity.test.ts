import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BrowserContext, Locator } from 'playwright-core';
import type { Page as ApiPage } from '../../src-shared/rest.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import { launchBrowser, screenshot, signIn, waitFor, waitForScreen } from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// Replay fidelity (stored raw output, ANSI kept), LAN pairing by URL fragment, and a clean CSP load.
let server: DashboardServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let context: BrowserContext;

before(async () => {
  server = await startDashboardServer();
  browser = await launchBrowser();
  context = browser.context;
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Each row's text plus the colour of `word` on the row it starts (xterm's DOM renderer). */
async function rowsAndColour(rows: Locator, word: string) {
  return rows.evaluate((root, w) => {
    const lines = Array.from(root.querySelectorAll(':scope > div')).map((r) =>
      (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd(),
    );
    // The printed line starts with the word (the echoed command line has it in the middle).
    const row = Array.from(root.querySelectorAll(':scope > div')).find((r) =>
      (r.textContent ?? '').replace(/\u00a0/g, ' ').startsWith(w),
    );
    const span = Array.from(row?.querySelectorAll('span') ?? []).find((s) => s.textContent?.includes(w));
    return {
      lines,
      classes: span ? Array.from(span.classList).filter((c) => c.startsWith('xterm-fg-')) : [],
      color: span ? getComputedStyle(span).color : null,
    };
  }, word);
}

test('replay of an ended session shows the colours and line breaks the live terminal showed', async () => {
  const page = await context.newPage();
  try {
    await signIn(page, server.url, await server.token('control'));
    await page.getByRole('button', { name: 'New session' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'New session' });
    const select = dialog.getByLabel('Provider');
    await waitFor(
      'shell provider',
      async () => (await select.locator('option[value="shell"]').count()) === 1,
    );
    await select.selectOption('shell');
    await dialog.getByLabel('Name (optional)').fill('colours');
    await dialog.getByLabel('Name (optional)').press('Enter');
    await waitForScreen(page, /[$#] ?$/m);
    await page.locator('.terminal-pane:not([hidden]) .xterm-helper-textarea').focus();
    await page.keyboard.type(
      "printf '\\033[31mRED-%s\\033[0m plain\\n\\033[32mGREEN\\033[0m line\\n' $((6*7)); echo done-$((1+1))",
    );
    await page.keyboard.press('Enter');
    await waitForScreen(page, /^done-2$/m);
    const live = await rowsAndColour(page.locator('.terminal-pane:not([hidden]) .xterm-rows'), 'RED-42');
    const liveGreen = await rowsAndColour(page.locator('.terminal-pane:not([hidden]) .xterm-rows'), 'GREEN');
    assert.deepEqual(live.classes, ['xterm-fg-1'], 'the live terminal shows RED in red');
    assert.deepEqual(liveGreen.classes, ['xterm-fg-2']);
    await screenshot(page, 'fidelity-01-live');

    const session = (await server.rest<ApiPage<SessionInfo>>('GET', '/cli/sessions?limit=500')).items.find(
      (s) => s.name === 'colours',
    );
    assert.ok(session);
    await server.rest('DELETE', `/cli/sessions/${session.session_id}`);
    await page.getByRole('button', { name: 'Sessions' }).click();
    const row = page.locator(`tr[data-session-id="${session.session_id}"]`);
    await row.getByRole('button', { name: 'Replay' }).click({ timeout: 20_000 });
    const replay = page.getByRole('region', { name: 'Replay of colours' });
    await replay.getByRole('status').filter({ hasText: 'End of recording' }).waitFor({ timeout: 20_000 });
    const rows = replay.locator('.xterm-rows');
    const replayed = await rowsAndColour(rows, 'RED-42');
    const replayedGreen = await rowsAndColour(rows, 'GREEN');
    await screenshot(page, 'fidelity-02-replay');
    assert.deepEqual(replayed.classes, live.classes, 'replay keeps the red');
    assert.equal(replayed.color, live.color);
    assert.deepEqual(replayedGreen.classes, liveGreen.classes, 'replay keeps the green');
    // Line breaks as on the live screen: the two printed lines, each on its own row, in order.
    const printed = (lines: string[]) => lines.filter((l) => /^(RED-42 plain|GREEN line|done-2)$/.test(l));
    assert.deepEqual(printed(replayed.lines), ['RED-42 plain', 'GREEN line', 'done-2']);
    assert.deepEqual(printed(replayed.lines), printed(live.lines));
    // Escape sequences were interpreted, not printed (the exact-line match above would fail too).
    assert.ok(!replayed.lines.some((l) => l.includes('\u001b')), replayed.lines.join('\n'));
  } finally {
    await page.close();
  }
});

test('LAN pairing: #pair=<token> signs in, and the fragment leaves the address bar and history', async () => {
  const page = await context.newPage();
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  try {
    const { token } = await server.issue('control');
    await page.goto(`${server.url}/#pair=${encodeURIComponent(token)}`);
    await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 20_000 });
    assert.equal(page.url(), `${server.url}/`, 'no fragment in the address');
    const state = await page.evaluate(() => ({
      hash: location.hash,
      href: location.href,
      stored: sessionStorage.getItem('autodev.token'),
    }));
    assert.equal(state.hash, '');
    assert.equal(state.stored, token, 'kept like a pasted token (this tab only)');
    assert.ok(!requested.some((u) => u.includes(token)), 'the token is in no request URL');
    await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
    // The history entry was replaced, not pushed: back is the blank page, forward is the bare URL.
    await page.goBack();
    assert.equal(page.url(), 'about:blank');
    await page.goForward();
    assert.equal(page.url(), `${server.url}/`);
    await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 20_000 });
    // A reload (address without the fragment) stays signed in.
    await page.reload();
    await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 20_000 });
    assert.equal(await page.getByLabel('Access token').count(), 0);
    await screenshot(page, 'fidelity-03-paired');
  } finally {
    await page.close();
  }

  // A bad pairing token shows sign-in with the reason, and the fragment is gone all the same.
  const bad = await context.newPage();
  try {
    await bad.goto(`${server.url}/#pair=not.a.token`);
    await bad.getByLabel('Access token').waitFor({ timeout: 20_000 });
    assert.equal(bad.url(), `${server.url}/`);
  } finally {
    await bad.close();
  }
});

test('no securitypolicyviolation on load and through the views (zod runs jitless under the CSP)', async () => {
  const page = await context.newPage();
  try {
    await page.addInitScript(() => {
      const seen: string[] = [];
      (window as unknown as { cspViolations: string[] }).cspViolations = seen;
      document.addEventListener('securitypolicyviolation', (e) =>
        seen.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
      );
    });
    const response = await page.goto(`${server.url}/`);
    assert.match(
      response?.headers()['content-security-policy'] ?? '',
      /script-src 'self'(?![^;]*unsafe-eval)/,
    );
    await signIn(page, server.url, await server.token('control'));
    for (const view of ['Tasks', 'Sessions', 'Settings', 'Terminals']) {
      await page.getByRole('button', { name: view, exact: true }).click();
      await page.waitForLoadState('networkidle').catch(() => {});
    }
    const violations = await page.evaluate(
      () => (window as unknown as { cspViolations: string[] }).cspViolations,
    );
    assert.deepEqual(violations, []);
    // The listener does see eval violations: a string timer (compiled by the page, like zod's
    // `new Function` probe would be) is blocked and reported.
    await page.evaluate(() => {
      setTimeout('window.evalRan = true', 0);
    });
    const reported = await waitFor(
      'the eval probe is reported',
      (): Promise<string[] | null> =>
        page.evaluate(() => {
          const seen = (window as unknown as { cspViolations: string[] }).cspViolations;
          return seen.length > 0 ? seen : null;
        }),
    );
    assert.ok(reported.length >= 1 && reported.every((v) => /^script-src/.test(v)), reported.join('\n'));
    assert.equal(await page.evaluate(() => (window as unknown as { evalRan?: boolean }).evalRan), undefined);
  } finally {
    await page.close();
  }
});
