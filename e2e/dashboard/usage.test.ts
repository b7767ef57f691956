import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { MessageReply } from '../../src-shared/conversation.ts';
import type { CreateSessionResponse } from '../../src-shared/rest.ts';
import { launchBrowser, screenshot, signIn, waitFor } from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// Tokens and cost in the dashboard (Chromium against a real `autodev serve`): a Claude-Code-like
// fixture session that writes its transcript, answered through POST /message; the sessions view's
// overview and the session's detail panel show what the record says, live.
let server: DashboardServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let home: string;

before(async () => {
  server = await startDashboardServer();
  browser = await launchBrowser();
  page = await browser.context.newPage();
  await signIn(page, server.url, await server.token('read'));
  home = mkdtempSync(path.join(os.tmpdir(), 'autodev-e2e-usage-home-'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(home, { recursive: true, force: true });
});

// Sonnet prices: 1000 in × $3 + 200 out × $15 per million.
const TURN_USD = (1000 * 3 + 200 * 15) / 1e6;

test('the sessions view shows cost per provider, day and session; the detail panel per model', async () => {
  const created = await server.rest<CreateSessionResponse>('POST', '/cli/sessions', {
    cli_tool: 'claude',
    name: 'usage-demo',
    working_directory: home,
    env: {
      HOME: home,
      FAKE_RECORD: '1',
      FAKE_MODEL: 'claude-sonnet-4-5',
      FAKE_USAGE: '1000,200,0,0',
      FAKE_WORK_MS: '300',
    },
  });
  const id = created.session_id;
  await waitFor(
    'ready',
    async () =>
      (await server.rest<{ state: string }>('GET', `/cli/sessions/${id}`)).state === 'waiting_input',
    20_000,
  );
  for (const n of [1, 2]) {
    const reply = await server.rest<MessageReply>('POST', `/cli/sessions/${id}/message`, {
      content: `question ${n}`,
    });
    assert.equal(reply.reply, `Here is my answer to: question ${n}`);
  }
  await page.getByRole('button', { name: 'Sessions', exact: true }).click();
  const overview = page.locator('details.usage-panel');
  // The summary updates from the live `usage` events (no reload).
  await overview
    .locator('summary', { hasText: `$${(2 * TURN_USD).toPrecision(2)} in 30 days` })
    .waitFor({ timeout: 20_000 });
  await overview.locator('summary').click();
  const perSession = overview.getByRole('table', { name: 'Cost per session' });
  await perSession.locator('tr', { hasText: 'usage-demo' }).waitFor();
  assert.match(
    await perSession.locator('tr', { hasText: 'usage-demo' }).innerText(),
    /claude\s+2\.0k in · 400 out\s+\$0\.012/,
  );
  assert.match(
    await overview.getByRole('table', { name: 'Cost per provider' }).innerText(),
    /claude\s+2\.0k in · 400 out\s+\$0\.012/,
  );
  await screenshot(page, 'usage-overview');

  await page.locator(`tr[data-session-id="${id}"]`).getByRole('button', { name: 'usage-demo' }).click();
  const detail = page.getByRole('region', { name: 'Tokens and cost' });
  await detail.getByRole('table', { name: 'Tokens and cost by model' }).waitFor();
  assert.equal(await detail.locator('[data-field="session-cost"]').innerText(), '$0.012');
  assert.match(await detail.innerText(), /claude-sonnet-4-5\s+2\s+2\.0k in · 400 out/);
  // A third answer: the panel follows without a reload.
  await server.rest<MessageReply>('POST', `/cli/sessions/${id}/message`, { content: 'question 3' });
  await waitFor(
    'the panel shows the third call',
    async () => (await detail.locator('tfoot td').first().innerText()) === '3',
    20_000,
  );
  await screenshot(page, 'usage-session-detail');
});
