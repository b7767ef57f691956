import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { SessionInfo } from '../../src-shared/session.ts';
import {
  type BrowserOptions,
  DESKTOP,
  docScreenshot,
  horizontalOverflow,
  launchBrowser,
  litPixels,
  PHONE,
  screenText,
  signIn,
  waitFor,
  waitForScreen,
} from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// Every view of the dashboard at 1280×800 and on a phone (390×844, device pixel ratio 3, touch): no
// view scrolls sideways, the terminal works, and a screenshot of each lands in docs/screenshots/
// (`desktop-*.png`, `phone-*.png`) for people to look at.
let server: DashboardServer;
const ids: Record<string, string> = {};

before(async () => {
  server = await startDashboardServer();
  const create = async (cli_tool: string, name: string) => {
    const { session } = await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', {
      cli_tool,
      name,
    });
    ids[name] = session.session_id;
  };
  await create('erroragent', 'broken-build');
  await create('fakeagent', 'review-pr');
  await create('shell', 'shell');
  await server.rest('POST', '/tasks', {
    tasks: [
      { cli_tool: 'oneshot', prompt: 'ok:200 summarise', working_directory: server.dataDir },
      { cli_tool: 'oneshot', prompt: 'tick:1500 lint', working_directory: server.dataDir },
      { cli_tool: 'oneshot', prompt: 'fail flaky-test', working_directory: server.dataDir },
    ],
  });
  await waitFor(
    'the failing agent has ended',
    async () => (await server.rest<SessionInfo>('GET', `/cli/sessions/${ids['broken-build']}`)).ended_at,
  );
});

after(async () => {
  await server?.stop();
});

async function noSidewaysScroll(page: Page, where: string): Promise<void> {
  const overflow = await horizontalOverflow(page);
  assert.deepEqual(overflow.culprits, [], `${where}: nothing sticks out to the right`);
  assert.ok(
    overflow.scrollWidth <= overflow.width,
    `${where}: page ${overflow.scrollWidth} px wide in ${overflow.width}`,
  );
}

const SIZES: [string, BrowserOptions][] = [
  ['desktop', DESKTOP],
  ['phone', PHONE],
];

for (const [size, options] of SIZES) {
  describe(`every view at ${size} size`, () => {
    let browser: Awaited<ReturnType<typeof launchBrowser>>;
    let page: Page;
    const shot = async (name: string) => {
      await noSidewaysScroll(page, name);
      await docScreenshot(page, `${size}-${name}`);
    };
    const narrow = size === 'phone';

    before(async () => {
      browser = await launchBrowser(options);
      page = await browser.context.newPage();
    });
    after(async () => {
      await browser?.close();
    });

    test('sign-in', async () => {
      await page.goto(`${server.url}/`);
      await page.getByLabel('Access token').waitFor();
      await shot('01-sign-in');
      await signIn(page, server.url, await server.token('control'));
    });

    test('terminals: the terminal works and the header keeps every action on screen', async () => {
      for (const label of ['New session', 'Sign out', 'Terminals', 'Sessions', 'Tasks', 'Settings']) {
        const box = await page
          .getByRole('button', { name: new RegExp(`^${label}`) })
          .first()
          .boundingBox();
        assert.ok(box && box.x >= 0 && box.x + box.width <= (narrow ? 390 : 1280), `${label} is on screen`);
      }
      await page.getByRole('tab', { name: /^shell/ }).click();
      await waitForScreen(page, /[$#] ?$/m);
      await page.locator('.terminal-pane:not([hidden]) .xterm').click();
      // More output after it: the server stores a line once later output confirms no secret spans it.
      await page.keyboard.type(`echo greetings-${size}; printf '%.0s.' {1..300}; echo`);
      await page.keyboard.press('Enter');
      await waitForScreen(page, new RegExp(`^greetings-${size}$`, 'm'));
      const host = await page.locator('.terminal-pane:not([hidden]) .terminal-host').boundingBox();
      assert.ok(
        host && host.height > 200 && host.width > 300,
        `the terminal has room: ${JSON.stringify(host)}`,
      );
      await shot('02-terminal');
    });

    test('inbox: sessions grouped by what they need', async () => {
      if (narrow) await page.getByRole('button', { name: 'Show inbox' }).click();
      const inbox = page.getByRole('complementary', { name: 'Inbox' });
      await inbox.waitFor();
      await inbox.locator('[data-group="needs-you"] .inbox-row', { hasText: 'review-pr' }).waitFor();
      await shot('03-inbox');
      if (narrow) await page.getByRole('button', { name: 'Close inbox' }).click();
    });

    test('session details', async () => {
      await page.getByRole('button', { name: 'Show session details' }).click();
      await page.getByRole('complementary', { name: 'Details of shell' }).waitFor();
      await shot('04-session-details');
      await page.getByRole('button', { name: narrow ? 'Close panel' : 'Hide session details' }).click();
    });

    test('new-session dialog', async () => {
      await page.getByRole('button', { name: 'New session' }).first().click();
      const dialog = page.getByRole('dialog', { name: 'New session' });
      await dialog.waitFor();
      await waitFor('providers', async () => (await dialog.locator('option').count()) > 3);
      await shot('05-new-session');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
    });

    test('an ended session: its transcript and what to do next', async () => {
      if (narrow) await page.getByRole('button', { name: 'Show inbox' }).click();
      await page.locator('.inbox-row', { hasText: 'broken-build' }).click();
      const bar = page.getByRole('region', { name: 'broken-build has ended' });
      await bar.waitFor();
      await waitForScreen(page, /fatal: could not reach the model service/);
      await shot('06-ended-session');
    });

    test('sessions list and history search', async () => {
      await page.getByRole('button', { name: 'Sessions', exact: true }).click();
      await page.locator('tr[data-session-id]').first().waitFor();
      await shot('07-sessions');
      await page.getByRole('searchbox').fill('greetings');
      await waitFor('a search hit', async () => {
        await page.getByRole('button', { name: 'Search', exact: true }).click();
        return (await page.locator('.search-results .hit').count()) > 0;
      });
      await shot('08-history-search');
    });

    test('replay', async () => {
      await page
        .locator(`tr[data-session-id="${ids['broken-build']}"]`)
        .getByRole('button', { name: 'Replay' })
        .click();
      const replay = page.getByRole('region', { name: 'Replay of broken-build' });
      await replay.getByRole('status').filter({ hasText: 'End of recording' }).waitFor({ timeout: 20_000 });
      await shot('09-replay');
      await replay.getByRole('button', { name: 'Close replay' }).click();
    });

    test('tasks and a task detail', async () => {
      await page.getByRole('button', { name: 'Tasks' }).click();
      await page.locator('[data-list="finished"] .task-row').nth(2).waitFor({ timeout: 30_000 });
      await shot('10-tasks');
      await page.locator('.task-row', { hasText: 'lint' }).locator('.task-open').click();
      await page.getByRole('complementary', { name: /^Task / }).waitFor();
      await shot('11-task-detail');
      await page.getByRole('button', { name: 'Close task details' }).click();
    });

    test('settings', async () => {
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByRole('heading', { name: 'Appearance' }).waitFor();
      await shot('12-settings');
    });

    test('read-only', async () => {
      const reader = await browser.context.newPage();
      try {
        await signIn(reader, server.url, await server.token('read'));
        await reader.getByRole('tab', { name: /^shell/ }).click();
        await waitForScreen(reader, /greetings-/);
        await noSidewaysScroll(reader, 'read-only');
        await docScreenshot(reader, `${size}-13-read-only`);
      } finally {
        await reader.close();
      }
    });
  });
}

// The phone emulation of the issue drew a blank terminal at a device pixel ratio of 3 with the default
// preferences (the GPU renderer on): the terminal must draw there too.
test('phone at device pixel ratio 3 with default preferences: the terminal draws and answers', async () => {
  const browser = await launchBrowser({ ...PHONE, preferences: null });
  try {
    const page = await browser.context.newPage();
    await signIn(page, server.url, await server.token('control'));
    await page.getByRole('tab', { name: /^shell/ }).click();
    const pane = page.locator('.terminal-pane:not([hidden])');
    await pane.locator('.xterm').tap();
    await page.keyboard.type('echo dpr-$((1+2))');
    await page.keyboard.press('Enter');
    const renderer = await pane.getAttribute('data-renderer');
    if (renderer === 'dom') await waitForScreen(page, /^dpr-3$/m);
    // Whatever the renderer, the pixels of the terminal are not one flat colour.
    await waitFor(
      'the terminal drew text',
      async () => (await litPixels(page, '.terminal-pane:not([hidden]) .terminal-host')) > 500,
    );
    const text = renderer === 'dom' ? await screenText(page) : '';
    assert.ok(renderer === 'webgl' || /dpr-3/.test(text));
    await noSidewaysScroll(page, 'phone terminal, default preferences');
    await docScreenshot(page, 'phone-02b-terminal-gpu-default');
  } finally {
    await browser.close();
  }
});
