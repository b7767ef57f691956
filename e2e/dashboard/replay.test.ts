import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { SessionInfo } from '../../src-shared/session.ts';
import { DESKTOP, docScreenshot, launchBrowser, signIn, waitFor, waitForScreen } from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// Replay you can use: a timeline with a marker per command, play / pause / speed, a scrubber, and a
// jump to any command — built on the history API.
let server: DashboardServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let session: SessionInfo;

before(async () => {
  server = await startDashboardServer();
  browser = await launchBrowser(DESKTOP);
  page = await browser.context.newPage();
  await signIn(page, server.url, await server.token('control'));
  session = (
    await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', {
      cli_tool: 'shell',
      name: 'recorded',
    })
  ).session;
  await page.getByRole('tab', { name: /^recorded/ }).click();
  await waitForScreen(page, /[$#] ?$/m);
  await page.locator('.terminal-pane:not([hidden]) .xterm').click();
  // Each command prints a 300-character line too: the store keeps back the last ~256 characters of a
  // live session until more output arrives, and the timeline needs each command's output in its own
  // rows (once output is stored within a second on its own, the padding is not needed).
  for (const [cmd, out] of [
    ["echo first-$((1)); printf '%.0s.' {1..300}; echo", /^first-1$/m],
    ["sleep 1; echo second-$((2)); printf '%.0s.' {1..300}; echo", /^second-2$/m],
    ["echo third-$((3)); printf '%.0s.' {1..300}; echo", /^third-3$/m],
  ] as const) {
    await page.keyboard.type(cmd);
    await page.keyboard.press('Enter');
    await waitForScreen(page, out);
  }
  await server.rest('DELETE', `/cli/sessions/${session.session_id}`);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const replayText = (replay: Locator) =>
  replay.locator('.xterm-rows').evaluate((rows) =>
    Array.from(rows.children)
      .map((r) => (r.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd())
      .join('\n'),
  );

test('the timeline: a marker per command, jump to a command, play to the end, pause, speed', async () => {
  await page.getByRole('button', { name: 'Sessions', exact: true }).click();
  await page
    .locator(`tr[data-session-id="${session.session_id}"]`)
    .getByRole('button', { name: 'Replay' })
    .click();
  const replay = page.getByRole('region', { name: 'Replay of recorded' });
  await replay.getByRole('status').filter({ hasText: 'End of recording' }).waitFor({ timeout: 20_000 });
  // Opens on the final screen.
  assert.match(await replayText(replay), /^third-3$/m);

  const commands = replay.getByRole('navigation', { name: 'Commands' }).getByRole('button');
  const labels = (await commands.allTextContents()).map((t) => t.replace(/\d+:\d\d$/, '').trim());
  assert.deepEqual(
    labels.filter((l) => /first|second|third/.test(l)),
    [
      "echo first-$((1)); printf '%.0s.' {1..300}; echo",
      "sleep 1; echo second-$((2)); printf '%.0s.' {1..300}; echo",
      "echo third-$((3)); printf '%.0s.' {1..300}; echo",
    ],
    'one marker per command, typed key by key',
  );
  assert.equal(
    await replay.locator('.replay-marker').count(),
    labels.length,
    'the scrubber shows each marker',
  );

  // Jump to the second command: its output has not happened yet on that screen.
  await commands.filter({ hasText: 'second' }).click();
  await waitFor('screen at the second command', async () => {
    const text = await replayText(replay);
    return /^first-1$/m.test(text) && !/^second-2$/m.test(text);
  });
  assert.doesNotMatch(await replayText(replay), /^third-3$/m);
  await docScreenshot(page, 'desktop-09b-replay-timeline');

  // Play at 16×: the rest appears and it stops at the end.
  await replay.getByLabel('Speed').selectOption('16');
  await replay.getByRole('button', { name: 'Play', exact: true }).click();
  await replay.getByRole('status').filter({ hasText: 'End of recording' }).waitFor({ timeout: 20_000 });
  assert.match(await replayText(replay), /^second-2$/m);
  assert.match(await replayText(replay), /^third-3$/m);

  // From the start at 1×, pause after a moment: the clock stops moving.
  await replay.getByLabel('Speed').selectOption('0.5');
  await replay.getByRole('button', { name: 'Play', exact: true }).click();
  await replay.getByRole('status').filter({ hasText: 'Playing' }).waitFor();
  await new Promise((r) => setTimeout(r, 400));
  await replay.getByRole('button', { name: 'Pause', exact: true }).click();
  const clock = replay.getByTestId('replay-clock');
  const paused = await clock.textContent();
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(await clock.textContent(), paused, 'paused: the clock stands still');
  assert.match((await replay.getByRole('status').textContent()) ?? '', /Paused/);
  const position = Number(await replay.getByLabel('Replay position').inputValue());
  const end = Number(await replay.getByLabel('Replay position').getAttribute('max'));
  assert.ok(position < end, `paused before the end (${position} of ${end})`);
});
