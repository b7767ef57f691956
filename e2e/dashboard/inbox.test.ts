import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { SessionInfo } from '../../src-shared/session.ts';
import { DESKTOP, docScreenshot, launchBrowser, signIn, waitFor, waitForScreen } from './helpers/browser.ts';
import { type DashboardServer, startDashboardServer } from './helpers/server.ts';

// Needs-you first: the inbox groups sessions by what they need, shows the question, the last line and
// the age, Alt+J jumps to the next one; a hidden page gets a browser notification (permission asked
// on a click); the dashboard is an installable web app.
let server: DashboardServer;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;

before(async () => {
  server = await startDashboardServer();
  browser = await launchBrowser(DESKTOP);
  page = await browser.context.newPage();
  // Record notifications and permission requests (with whether a user gesture was active).
  await page.addInitScript(() => {
    const w = window as unknown as {
      shown: { title: string; body: string; tag: string }[];
      permissionRequests: boolean[];
      Notification: typeof Notification;
    };
    w.shown = [];
    w.permissionRequests = [];
    const Real = window.Notification;
    class Recording extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        w.shown.push({ title, body: options?.body ?? '', tag: options?.tag ?? '' });
      }
      static override requestPermission(): Promise<NotificationPermission> {
        w.permissionRequests.push(navigator.userActivation?.isActive ?? false);
        return Real.requestPermission();
      }
    }
    Object.defineProperty(window, 'Notification', { value: Recording, configurable: true });
    // A page opened in the background: hidden and unfocused before the app even loads.
    if (sessionStorage.getItem('e2e-hidden') === '1') {
      Object.defineProperty(document, 'visibilityState', { get: () => 'hidden', configurable: true });
      Object.defineProperty(document, 'hasFocus', { value: () => false, configurable: true });
    }
  });
  await signIn(page, server.url, await server.token('control'));
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function create(cli_tool: string, name: string): Promise<SessionInfo> {
  return (await server.rest<{ session: SessionInfo }>('POST', '/cli/sessions', { cli_tool, name })).session;
}

const inbox = () => page.getByRole('complementary', { name: 'Inbox' });
const rowOf = (id: string) => inbox().locator(`.inbox-row[data-session-id="${id}"]`);

test('the inbox groups sessions by what they need, with the question, the last line and the age', async () => {
  const waiting = await create('fakelogin', 'login-wait');
  const busy = await create('fakeagent', 'busy-one');
  await rowOf(waiting.session_id).waitFor({ timeout: 20_000 });
  await waitFor(
    'auth session needs you',
    async () => (await rowOf(waiting.session_id).getAttribute('data-group')) === 'needs-you',
  );
  assert.match(
    (await rowOf(waiting.session_id).locator('[data-field="question"]').textContent()) ?? '',
    /Select login method/,
  );
  assert.match((await rowOf(waiting.session_id).locator('.inbox-age').textContent()) ?? '', /^\d+ (s|min)$/);
  assert.ok(
    await rowOf(waiting.session_id).locator('[data-field="last-line"]').count(),
    'its last line on screen',
  );
  // Give the other agent work: it is "working", then done while unseen (another tab is in front).
  await page.getByRole('tab', { name: /^busy-one/ }).click();
  await waitForScreen(page, /^> ?$/m);
  await page.locator('.terminal-pane:not([hidden]) .xterm').click();
  await page.keyboard.type('long task');
  await page.keyboard.press('Enter');
  await waitFor(
    'working group',
    async () => (await rowOf(busy.session_id).getAttribute('data-group')) === 'working',
  );
  await page.getByRole('tab', { name: /^login-wait/ }).click();
  await waitFor('done and unseen', async () => {
    const group = await rowOf(busy.session_id).getAttribute('data-group');
    // The prompt agent waits for input again after its work: it needs you, or is done and unseen.
    return group === 'done-unseen' || group === 'needs-you';
  });
  await docScreenshot(page, 'desktop-03b-inbox-groups');
});

test('Alt+J jumps to the next session that needs you', async () => {
  await create('fakeagent', 'needs-a');
  await create('fakeagent', 'needs-b');
  await waitFor(
    'three need you',
    async () => (await inbox().locator('[data-group="needs-you"] .inbox-row').count()) >= 3,
  );
  const count = await inbox().locator('[data-group="needs-you"] .inbox-row').count();
  const active = async () => page.locator('.terminal-pane:not([hidden])').getAttribute('data-session-id');
  await page.locator('.terminal-pane:not([hidden]) .xterm').click();
  const visited = new Set<string>();
  for (let i = 0; i < count; i++) {
    const before = await active();
    await page.keyboard.press('Alt+J');
    await waitFor('another session', async () => (await active()) !== before);
    const now = (await active()) ?? '';
    // Membership may grow meanwhile (another agent finishing its work): check it as it is now.
    assert.equal(await rowOf(now).getAttribute('data-group'), 'needs-you', `Alt+J went to ${now}`);
    visited.add(now);
  }
  assert.ok(
    visited.size >= Math.min(count, 3),
    `Alt+J visits the sessions that need you (${visited.size} of ${count})`,
  );
});

test('a hidden page gets a notification when an agent starts needing you; permission is asked on a click', async () => {
  assert.deepEqual(
    await page.evaluate(() => (window as unknown as { permissionRequests: boolean[] }).permissionRequests),
    [],
  );
  // Chromium (headless) answers the prompt itself; the point is that it is asked from the click.
  await page.getByRole('button', { name: 'Turn on notifications' }).click();
  await waitFor(
    'permission asked',
    async () =>
      (await page.evaluate(() => (window as unknown as { permissionRequests: boolean[] }).permissionRequests))
        .length === 1,
  );
  assert.deepEqual(
    await page.evaluate(() => (window as unknown as { permissionRequests: boolean[] }).permissionRequests),
    [true],
  );
  await browser.context.grantPermissions(['notifications'], { origin: server.url });
  // The page reloads in the background: it is hidden while its session list loads, so sessions that
  // already needed you are in that list and must not notify.
  await page.evaluate(() => sessionStorage.setItem('e2e-hidden', '1'));
  await page.reload();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  assert.equal(await page.evaluate(() => document.visibilityState), 'hidden');
  await inbox().locator('.inbox-row[data-group="needs-you"]').first().waitFor({ timeout: 20_000 });
  await create('fakelogin', 'while-away');
  const shown = await waitFor('a notification', async () => {
    const list = await page.evaluate(
      () => (window as unknown as { shown: { title: string; body: string }[] }).shown,
    );
    return list.find((n) => n.title === 'while-away needs you');
  });
  assert.match(shown.body, /Select login method/);
  // Sessions that needed you before the page loaded do not notify.
  const titles = await page.evaluate(() =>
    (window as unknown as { shown: { title: string }[] }).shown.map((n) => n.title),
  );
  assert.deepEqual(titles, ['while-away needs you']);
  await page.evaluate(() => sessionStorage.removeItem('e2e-hidden'));
});

test('the dashboard is an installable web app: manifest, icons, no manifest errors', async () => {
  const manifest = (await (await fetch(`${server.url}/manifest.json`)).json()) as {
    name: string;
    display: string;
    start_url: string;
    icons: { src: string; sizes: string; type: string; purpose?: string }[];
  };
  assert.equal(manifest.name, 'AutoDev');
  assert.equal(manifest.display, 'standalone');
  for (const size of ['192x192', '512x512'])
    assert.ok(manifest.icons.some((i) => i.sizes === size && i.type === 'image/png'));
  assert.ok(manifest.icons.some((i) => i.purpose === 'maskable'));
  for (const icon of manifest.icons) {
    const response = await fetch(new URL(icon.src, `${server.url}/`));
    assert.equal(response.status, 200, icon.src);
    assert.equal(response.headers.get('content-type'), icon.type, icon.src);
    if (icon.type === 'image/png') {
      const bytes = Buffer.from(await response.arrayBuffer());
      const [w, h] = icon.sizes.split('x').map(Number);
      assert.equal(bytes.readUInt32BE(16), w, `${icon.src} width`);
      assert.equal(bytes.readUInt32BE(20), h, `${icon.src} height`);
    }
  }
  const cdp = await browser.context.newCDPSession(page);
  const parsed = (await cdp.send('Page.getAppManifest')) as { url: string; errors: { message: string }[] };
  assert.ok(parsed.url.endsWith('/manifest.json'), parsed.url);
  assert.deepEqual(parsed.errors, []);
});
