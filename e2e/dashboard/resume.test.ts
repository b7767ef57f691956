import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page as PlaywrightPage } from 'playwright-core';
import type { Page } from '../../src-shared/rest.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import { DESKTOP, launchBrowser, signIn, waitFor, waitForScreen } from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// Issue 16: an ended session whose agent can continue its conversation offers Resume in its ended bar.
// The fixture agent (fixtures/resume-agent.mjs) reports a fresh conversation id in-band and exits by
// itself; Resume must start a NEW session of the same provider, in the same folder, whose argv carries
// the provider's resume args with that id, open it live in the UI, and leave the old one ended, linked
// by `resumed_from`.
let server: DashboardServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: PlaywrightPage;
let folder: string;

before(async () => {
  // The folder the conversation ran in: not the server's cwd nor its HOME, so "the same folder" means it.
  folder = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'autodev-e2e-resume-')));
  server = await startDashboardServer();
  browser = await launchBrowser(DESKTOP);
  page = await browser.context.newPage();
  await signIn(page, server.url, await server.token('control'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

const tab = (name: RegExp) => page.getByRole('tab', { name });
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('Resume in the ended bar starts the resume argv with the recorded conversation id in the same folder, opens it, and links the old session', async () => {
  const first = (
    await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', {
      cli_tool: 'resumeagent',
      name: 'talks',
      working_directory: folder,
      // Smaller than the browser's terminal: the resumed session must not keep it.
      cols: 80,
      rows: 24,
    })
  ).session;
  // The agent reported its conversation and exited on its own: the server now says it can be resumed.
  const ended = await waitFor('the agent exited, resumable', async () => {
    const s = await server.rest<SessionInfo>('GET', `/cli/sessions/${first.session_id}`);
    return s.ended_at && s.resumable === true ? s : null;
  });
  const conversation = ended.conversation_id ?? '';
  assert.match(conversation, /^conv-[0-9a-f-]{36}$/, 'the id the agent reported is recorded');
  assert.equal(ended.exit_code, 0);
  assert.equal(ended.resumed_from ?? null, null);

  // The ended session in the browser: its transcript, and Resume beside Replay and Remove.
  await page.getByRole('button', { name: /^Terminals/ }).click();
  await page.locator(`.inbox-row[data-session-id="${first.session_id}"]`).click();
  await waitForScreen(page, new RegExp(`conversation ${literal(conversation)} saved`));
  const bar = page.getByRole('region', { name: 'talks has ended' });
  await bar.waitFor();
  assert.equal(await bar.getByRole('button', { name: 'Replay' }).count(), 1);
  assert.equal(await bar.getByRole('button', { name: 'Remove' }).count(), 1);
  const resume = bar.getByRole('button', { name: 'Resume' });
  await resume.waitFor({ timeout: 10_000 }).catch(() => {});
  assert.equal(await resume.count(), 1, 'a resumable session offers Resume');

  await resume.click();

  // A new tab, active, live: the agent's argv is the resume args with that id, before its own args.
  const resumedTab = tab(/^talks \(resumed\)/);
  await resumedTab.waitFor();
  await waitFor('the resumed tab is the active one', async () =>
    (await resumedTab.getAttribute('aria-selected')) === 'true' ? true : null,
  );
  const screen = await waitForScreen(page, /^> ?$/m);
  assert.ok(
    screen.includes(`argv=${JSON.stringify(['--resume', conversation, '--interactive'])}`),
    `the resume argv on screen:\n${screen}`,
  );
  assert.ok(screen.includes(`cwd=${folder}`), `the same folder on screen:\n${screen}`);
  assert.ok(screen.includes(`continuing conversation ${conversation}`));
  const pane = page.locator('.terminal-pane:not([hidden])');
  assert.equal(await pane.getByRole('region', { name: /has ended$/ }).count(), 0, 'no ended bar: it runs');
  // The old session ran at 80×24; the resumed one, opened here, takes this window's size.
  await waitFor('the resumed session takes the size of the view that opened it', async () => {
    const fitted = await pane.getAttribute('data-fitted-size');
    return fitted && fitted !== '80x24' && (await pane.getAttribute('data-pty-size')) === fitted;
  });
  // It is attached: what is typed reaches the resumed agent.
  await pane.getByTestId('terminal').click();
  await page.keyboard.type('still there?');
  await page.keyboard.press('Enter');
  await waitForScreen(page, /echo: still there\?/);

  // The server's view: exactly one new session, of the same provider, in the same folder, linked.
  const list = await server.rest<Page<SessionInfo>>('GET', '/cli/sessions?limit=100');
  const next = list.items.filter((s) => s.session_id !== first.session_id);
  assert.equal(next.length, 1, `one new session: ${JSON.stringify(list.items.map((s) => s.name))}`);
  const resumed = next[0] as SessionInfo;
  assert.equal(await pane.getAttribute('data-session-id'), resumed.session_id, 'the new session is open');
  assert.equal(resumed.resumed_from, first.session_id);
  assert.equal(resumed.cli_tool, 'resumeagent');
  assert.equal(resumed.name, 'talks (resumed)');
  assert.equal(resumed.current_directory, folder);
  assert.equal(resumed.conversation_id, conversation);
  assert.equal(resumed.ended_at, null);

  // The old session stays as it was: ended, exit code 0, not linked to anything.
  const old = await server.rest<SessionInfo>('GET', `/cli/sessions/${first.session_id}`);
  assert.equal(old.state, ended.state);
  assert.equal(old.ended_at, ended.ended_at);
  assert.equal(old.exit_code, 0);
  assert.equal(old.resumed_from ?? null, null);
  assert.equal(old.conversation_id, conversation);
  // Its tab still shows it ended, with its own transcript.
  await tab(/^talks(?! \(resumed\))/).click();
  await page.getByRole('region', { name: 'talks has ended' }).waitFor();
  await waitForScreen(page, new RegExp(`conversation ${literal(conversation)} saved`));

  await server.rest('DELETE', `/cli/sessions/${resumed.session_id}`);
});
