import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { SessionInfo } from '../../src-shared/session.ts';
import {
  DESKTOP,
  docScreenshot,
  horizontalOverflow,
  launchBrowser,
  PHONE,
  screenText,
  signIn,
  waitFor,
  waitForScreen,
} from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// Issue 10, items 1 and 2, from the browser's side: a viewer never types into an agent (it answers no
// terminal query, replayed or live), and only the view in use sets the terminal size.
let server: DashboardServer;

before(async () => {
  server = await startDashboardServer();
});

after(async () => {
  await server?.stop();
});

type LogEntry = { at: number; round?: number; queries?: number; received?: string };

function readLog(): LogEntry[] {
  const file = path.join(server.dataDir, 'query-agent.log');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogEntry);
}

/** Escape sequences in what the agent received: each is one answer (or one report). */
function answersIn(entries: LogEntry[]): string[] {
  const bytes = entries.map((e) => e.received ?? '').join('');
  return bytes.match(/\x1b(\[[\x20-\x3f]*[\x40-\x7e]|\][^\x07\x1b]*(\x07|\x1b\\)|P[^\x1b]*\x1b\\)/g) ?? [];
}

const rounds = (entries: LogEntry[]) => entries.filter((e) => e.round !== undefined).length;

/** Which query an answer answers: OSC answers by their number, the rest by their shape (digits out). */
function answerKind(answer: string): string {
  const osc = /^\x1b\](\d+);(?:(\d+);)?/.exec(answer);
  if (osc) return `OSC ${osc[1]}${osc[2] !== undefined ? `;${osc[2]}` : ''}`;
  return JSON.stringify(answer.replace(/\d+/g, 'N'));
}

/** The kinds of answer received after each round was printed (before the next one), sorted. */
function answerKindsPerRound(entries: LogEntry[]): string[][] {
  const groups: LogEntry[][] = [];
  for (const e of entries) {
    if (e.round !== undefined) groups.push([]);
    else groups.at(-1)?.push(e);
  }
  return groups.map((g) => answersIn(g).map(answerKind).sort());
}

/** Wait for the session's screen; `activate`: click its tab, which a person does to use it. */
async function openSession(page: Page, name: string, pattern: RegExp, activate = false): Promise<void> {
  const tab = page.getByRole('tab', { name: new RegExp(`^${name}`) });
  await tab.waitFor({ timeout: 20_000 });
  if (activate) await tab.click();
  else assert.equal(await tab.getAttribute('aria-selected'), 'true', `${name} is the open tab`);
  await waitForScreen(page, pattern, 30_000);
}

test('viewers answer no terminal query: 5 viewers, 3 reloads and a second browser send the agent nothing', async () => {
  const { session } = await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', {
    cli_tool: 'queryagent',
    name: 'asks-questions',
  });
  // Before any viewer: how many answers does one round of queries get from the server itself (its
  // headless mirror answers live queries once, when that is in place; otherwise none)?
  await waitFor('three rounds with no viewer', () => rounds(readLog()) >= 3, 20_000);
  // Between rounds (2 s apart): the answers to the last one are in.
  await new Promise((r) => setTimeout(r, 600));
  const alone = readLog();
  const perRound = answersIn(alone).length / rounds(alone);
  assert.ok(Number.isInteger(perRound), `answers per round without viewers: ${perRound}`);
  // One answer per query, from one place: within a round no query is answered twice.
  const oneRound = answerKindsPerRound(alone)[1] ?? [];
  assert.equal(new Set(oneRound).size, oneRound.length, `a query answered twice: ${oneRound.join(' ')}`);
  assert.ok(
    ['"\\u001b[?N;Nc"', '"\\u001b[N;NR"', 'OSC 11'].every((k) => oneRound.includes(k)),
    `device attributes, cursor position and background colour are answered: ${oneRound.join(' ')}`,
  );

  const token = await server.token('control');
  const first = await launchBrowser(DESKTOP);
  const second = await launchBrowser(DESKTOP);
  try {
    const pages: Page[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await first.context.newPage();
      await signIn(page, server.url, token);
      await openSession(page, 'asks-questions', /round \d+: asking/);
      pages.push(page);
    }
    // A person clicks into one of them: focus is not input (the agent enabled focus reports).
    await pages[0]!.locator('.terminal-pane:not([hidden]) .xterm').click();
    for (let i = 0; i < 3; i++) {
      await pages[1]!.reload();
      await pages[1]!.getByRole('navigation', { name: 'Main' }).waitFor({ timeout: 20_000 });
      await waitForScreen(pages[1]!, /round \d+: asking/, 30_000);
    }
    const other = await second.context.newPage();
    await signIn(other, server.url, token);
    await openSession(other, 'asks-questions', /round \d+: asking/);
    // Two more live rounds with six viewers watching.
    const before = rounds(readLog());
    await waitFor('two more rounds', () => rounds(readLog()) >= before + 2, 20_000);
    assert.match(await screenText(pages[4]!), /round \d+: asking 20 questions/);
  } finally {
    await server.rest('DELETE', `/cli/sessions/${session.session_id}`).catch(() => {});
    await first.close();
    await second.close();
  }
  await new Promise((r) => setTimeout(r, 500));
  const log = readLog();
  const total = rounds(log);
  const answers = answersIn(log);
  // Exactly the server's own answers, once per round printed (the last round may be cut by terminate).
  assert.ok(
    answers.length <= total * perRound && answers.length >= (total - 1) * perRound,
    `the agent received ${answers.length} answers for ${total} rounds (server alone: ${perRound} per round): ${JSON.stringify(answers.slice(0, 12))}`,
  );
  // Round by round (the first and the last may be cut by the start and the terminate): the same
  // answers as with no viewer, one per query, and nothing else.
  const perRoundKinds = answerKindsPerRound(log).slice(1, -1);
  assert.ok(perRoundKinds.length >= 4, `rounds seen: ${perRoundKinds.length}`);
  for (const [i, kinds] of perRoundKinds.entries())
    assert.deepEqual(kinds, oneRound, `round ${i + 2}: the answers of one round without viewers`);
  if (perRound === 0)
    assert.deepEqual(
      log.filter((e) => e.received !== undefined),
      [],
      'no byte at all reached the agent: nobody typed',
    );
});

async function ptySize(sessionId: string): Promise<string> {
  const s = await server.rest<SessionInfo>('GET', `/cli/sessions/${sessionId}`);
  return `${s.cols}x${s.rows}`;
}

const paneAttr = (page: Page, name: string) =>
  page
    .locator('.terminal-pane:not([hidden])')
    .getAttribute(name)
    .then((v) => v ?? '');

test('the view in use sets the terminal size; another view draws that size without reflowing or breaking its layout', async () => {
  const { session } = await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', {
    cli_tool: 'shell',
    name: 'sized',
  });
  const id = session.session_id;
  const token = await server.token('control');
  const desk = await launchBrowser(DESKTOP);
  const phone = await launchBrowser(PHONE);
  const reader = await launchBrowser(DESKTOP);
  try {
    const d = await desk.context.newPage();
    await signIn(d, server.url, token);
    await openSession(d, 'sized', /[$#] ?$/m);
    // The desktop user clicks into the terminal: the PTY takes the desktop's fitted size.
    await d.locator('.terminal-pane:not([hidden]) .xterm').click();
    const deskFit = await waitFor('desktop fitted size', () => paneAttr(d, 'data-fitted-size'));
    await waitFor('PTY at the desktop size', async () => (await ptySize(id)) === deskFit);
    const deskCols = Number(deskFit.split('x')[0]);
    assert.ok(deskCols > 100, `desktop fits ${deskFit}`);

    // A phone opens the same session: watching is not using. The PTY keeps the desktop's size, and the
    // phone draws that grid (scaled), not a reflowed copy, without the page scrolling sideways.
    const p = await phone.context.newPage();
    await signIn(p, server.url, token);
    await openSession(p, 'sized', /[$#] ?$/m);
    await waitFor('phone draws the PTY size', async () => (await paneAttr(p, 'data-pty-size')) === deskFit);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await ptySize(id), deskFit, 'attaching a phone does not resize the PTY');
    const phoneFit = await waitFor('phone fitted size', () => paneAttr(p, 'data-fitted-size'));
    assert.ok(Number(phoneFit.split('x')[0]) < 60, `phone fits ${phoneFit}`);
    const scale = Number(
      await p.locator('.terminal-pane:not([hidden]) .terminal-host').getAttribute('data-scale'),
    );
    assert.ok(scale < 1, `the phone scales the desktop's grid down (scale ${scale})`);
    assert.equal(
      await p.locator('.terminal-pane:not([hidden]) .xterm-rows > div').count(),
      Number(deskFit.split('x')[1]),
      "the phone's grid has the PTY's rows",
    );
    assert.deepEqual((await horizontalOverflow(p)).culprits, []);
    await p.getByTestId('size-chip').waitFor();
    await docScreenshot(p, 'phone-terminal-sized-elsewhere');

    // A read-only viewer never resizes, even when clicked.
    const r = await reader.context.newPage();
    await signIn(r, server.url, await server.token('read'));
    await openSession(r, 'sized', /[$#] ?$/m);
    await r.setViewportSize({ width: 900, height: 600 });
    await r.locator('.terminal-pane:not([hidden]) .xterm').click();
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(await ptySize(id), deskFit, 'a read-only viewer does not set the size');

    // The phone user taps the terminal: the phone is now in use and the PTY follows it.
    await p.locator('.terminal-pane:not([hidden]) .xterm').tap();
    await waitFor('PTY at the phone size', async () => (await ptySize(id)) === phoneFit);
    // The desktop now draws the phone's grid, at full size in its bigger space, layout intact.
    await waitFor(
      'desktop draws the phone size',
      async () => (await paneAttr(d, 'data-pty-size')) === phoneFit,
    );
    assert.equal(
      await d.locator('.terminal-pane:not([hidden]) .xterm-rows > div').count(),
      Number(phoneFit.split('x')[1]),
    );
    assert.deepEqual((await horizontalOverflow(d)).culprits, []);
    const deskBox = await d.locator('.terminal-pane:not([hidden])').boundingBox();
    assert.ok(deskBox && deskBox.width > 600, 'the desktop pane keeps its size');

    // Typing on the desktop makes it the view in use again.
    await d.keyboard.type('echo back-on-desk');
    await d.keyboard.press('Enter');
    await waitFor('PTY back at the desktop size', async () => (await ptySize(id)) === deskFit);
    await waitForScreen(d, /^back-on-desk$/m);
  } finally {
    await desk.close();
    await phone.close();
    await reader.close();
  }
});
