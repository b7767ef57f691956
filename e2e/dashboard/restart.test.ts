import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { SessionInfo } from '../../src-shared/session.ts';
import { launchBrowser, screenshot, signIn, waitFor, waitForScreen } from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// The server restarts under an open dashboard: the page reconnects by itself, and a tab of a session
// from the previous run shows that session's recorded transcript instead of a blank or an error.
let server: DashboardServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;

before(async () => {
  server = await startDashboardServer();
  browser = await launchBrowser();
  page = await browser.context.newPage();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const tab = (p: Page, name: string) =>
  p.locator('.tab', { has: p.getByRole('tab', { name: new RegExp(`^${name}`) }) });

test('after a server restart the dashboard reconnects; an old tab replays its transcript', async () => {
  await signIn(page, server.url, await server.token('control'));
  const { session } = await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', {
    cli_tool: 'shell',
    name: 'old-run',
  });
  await tab(page, 'old-run').getByRole('tab').click();
  await waitForScreen(page, /[$#] ?$/m);
  await page.locator('.terminal-pane:not([hidden]) .xterm').click();
  await page.keyboard.type('echo from-the-$((100+1))-past');
  await page.keyboard.press('Enter');
  await waitForScreen(page, /^from-the-101-past$/m);

  await server.restart();
  // The open page notices the exit (events), then reconnects to the new process on its own.
  await waitFor(
    'exited badge',
    async () => (await tab(page, 'old-run').locator('[data-state]').getAttribute('data-state')) === 'exited',
  );
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 });

  // A reload brings the tab back; the live stream is gone, so the recorded transcript is shown.
  await page.reload();
  await tab(page, 'old-run').waitFor({ timeout: 20_000 });
  await tab(page, 'old-run').getByRole('tab').click();
  const text = await waitForScreen(page, /from-the-101-past/, 30_000);
  assert.match(text, /echo from-the-/);
  const ended = await server.rest<SessionInfo>('GET', `/cli/sessions/${session.session_id}`);
  assert.ok(ended.state === 'terminated' || ended.state === 'completed', ended.state);
  await screenshot(page, '17-after-restart-transcript');
});
