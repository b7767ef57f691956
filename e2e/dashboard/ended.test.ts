import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { SessionInfo } from '../../src-shared/session.ts';
import { DESKTOP, launchBrowser, signIn, waitFor, waitForScreen } from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// Issue 16, item 2: an ended session never acts as if it were running — before and after a server
// restart it offers Replay and Remove (Resume when the server says it can), and no message shows a
// raw id or an internal error.
let server: DashboardServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let failed: SessionInfo;
let shell: SessionInfo;
/** Every alert / toast text the page showed, collected as it happens. */
const messages: string[] = [];

before(async () => {
  server = await startDashboardServer();
  browser = await launchBrowser(DESKTOP);
  page = await browser.context.newPage();
  await page.exposeFunction('recordMessage', (text: string) => messages.push(text));
  await page.addInitScript(() => {
    const seen = new WeakSet<Node>();
    new MutationObserver(() => {
      for (const el of document.querySelectorAll('[role="alert"], .notice')) {
        if (seen.has(el)) continue;
        seen.add(el);
        (window as unknown as { recordMessage(t: string): void }).recordMessage(el.textContent ?? '');
      }
    }).observe(document, { subtree: true, childList: true, characterData: true });
  });
  failed = (
    await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', {
      cli_tool: 'erroragent',
      name: 'crashes',
    })
  ).session;
  shell = (
    await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', {
      cli_tool: 'shell',
      name: 'survivor',
    })
  ).session;
  await signIn(page, server.url, await server.token('control'));
  await waitFor(
    'the agent exited with an error',
    async () => (await server.rest<SessionInfo>('GET', `/cli/sessions/${failed.session_id}`)).ended_at,
  );
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function assertNoRawMessages(): void {
  for (const text of messages) {
    assert.doesNotMatch(text, /[0-9a-f]{8}-[0-9a-f]{4}-/, `a raw id in "${text}"`);
    assert.doesNotMatch(
      text,
      /is not running|not found|state error|\(state /i,
      `an internal error in "${text}"`,
    );
  }
}

const tab = (name: string) => page.getByRole('tab', { name: new RegExp(`^${name}`) });

async function checkEndedEverywhere(id: string, name: string): Promise<void> {
  // The tab: its transcript and an ended bar with Replay and Remove, no live prompt.
  await page.getByRole('button', { name: /^Terminals/ }).click();
  const row = page.locator(`.inbox-row[data-session-id="${id}"]`);
  await row.click();
  const bar = page.getByRole('region', { name: `${name} has ended` });
  await bar.waitFor();
  assert.equal(await bar.getByRole('button', { name: 'Replay' }).count(), 1);
  assert.equal(await bar.getByRole('button', { name: 'Remove' }).count(), 1);
  assert.equal(await bar.getByRole('button', { name: 'Resume' }).count(), 0, 'not resumable: no Resume');
  // The details: how it ended, no process figures, no Terminate.
  await page.getByRole('button', { name: 'Show session details' }).click();
  const detail = page.getByRole('complementary', { name: `Details of ${name}` });
  await detail.waitFor();
  assert.equal(
    await detail.locator('[data-field="resources"]').count(),
    0,
    'no resource figures for a dead process',
  );
  assert.equal(await detail.locator('[data-field="pid"]').count(), 0);
  assert.equal(await detail.getByRole('button', { name: 'Terminate' }).count(), 0);
  assert.ok(await detail.locator('[data-field="exit"]').count());
  await page.getByRole('button', { name: 'Hide session details' }).click();
  // Closing its tab does not warn that it is still running.
  await tab(name)
    .locator('..')
    .getByRole('button', { name: `Close ${name}` })
    .click();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(await page.getByRole('dialog').count(), 0, 'no "still running" confirmation');
  await tab(name).waitFor({ state: 'detached' });
  // Sessions: Replay and Remove, not Open; the replay works.
  await page.getByRole('button', { name: 'Sessions', exact: true }).click();
  const listRow = page.locator(`tr[data-session-id="${id}"]`);
  await listRow.waitFor();
  assert.equal(await listRow.getByRole('button', { name: 'Open' }).count(), 0);
  assert.equal(await listRow.getByRole('button', { name: 'Remove' }).count(), 1);
  await listRow.getByRole('button', { name: 'Replay' }).click();
  const replay = page.getByRole('region', { name: `Replay of ${name}` });
  await replay.getByRole('status').filter({ hasText: 'End of recording' }).waitFor({ timeout: 20_000 });
  await replay.getByRole('button', { name: 'Close replay' }).click();
  assertNoRawMessages();
}

test('an agent that exited with an error: transcript, Replay, Remove; no Terminate, no "still running", no raw toast', async () => {
  // It may have ended before the page loaded (then it has no tab): the inbox opens it either way.
  await page.locator(`.inbox-row[data-session-id="${failed.session_id}"]`).click();
  await waitForScreen(page, /fatal: could not reach the model service/);
  await checkEndedEverywhere(failed.session_id, 'crashes');
});

test('after a server restart: sessions of the earlier run are ended everywhere, without raw errors', async () => {
  await page.getByRole('button', { name: /^Terminals/ }).click();
  await tab('survivor').click();
  await waitForScreen(page, /[$#] ?$/m);
  await server.restart();
  await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 60_000 });
  await page.reload();
  await page.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 20_000 });
  await checkEndedEverywhere(shell.session_id, 'survivor');
  await checkEndedEverywhere(failed.session_id, 'crashes');
});

test('Remove takes an ended session out of the inbox and the list (the list can still show it)', async () => {
  await page.getByRole('button', { name: 'Sessions', exact: true }).click();
  const row = page.locator(`tr[data-session-id="${failed.session_id}"]`);
  await row.getByRole('button', { name: 'Remove' }).click();
  await row.waitFor({ state: 'detached' });
  await page.getByRole('button', { name: /^Show 1 removed session/ }).click();
  await row.waitFor();
  await page.getByRole('button', { name: /^Terminals/ }).click();
  assert.equal(await page.locator(`.inbox-row[data-session-id="${failed.session_id}"]`).count(), 0);
  assertNoRawMessages();
});
