import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { AttentionEvent } from '../../src-main/electron/attention.ts';
import type { DesktopCore } from '../../src-main/electron/desktop-core.ts';
import { LanDashboard } from '../../src-main/electron/lan-dashboard.ts';
import { SecretStore } from '../../src-main/electron/secret-store.ts';
import type { DesktopEvent } from '../../src-shared/ipc.ts';
import type { LiveEvent } from '../../src-shared/ws-protocol.ts';
import { connectWindow, createHarness, waitFor } from './bridge-harness.ts';
import { FakeManager, frame } from './fakes.ts';
import { buildPreload } from './helpers.ts';

let bundle: { file: string; dir: string };
before(() => {
  bundle = buildPreload();
});
after(() => rmSync(bundle.dir, { recursive: true, force: true }));

function fakeCore(manager: FakeManager, providers: { id: string; env_keys: string[] }[] = []): DesktopCore {
  return {
    sessions: manager,
    listProviders: async () =>
      providers.map((p) => ({
        id: p.id,
        name: p.id,
        binary: p.id,
        installed: true,
        resolved_path: null,
        version: null,
        env_keys: p.env_keys,
        env_missing: [],
        supports_one_shot: false,
        supports_full_access: false,
      })),
    store: null,
    tasks: null,
    close: async () => {},
  };
}

function setup(manager: FakeManager, extra: { providers?: { id: string; env_keys: string[] }[] } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'autodev-ctl-'));
  const notified: AttentionEvent[] = [];
  const focused: number[] = [];
  const tray: number[] = [];
  const opened: string[] = [];
  const secrets = new SecretStore(dir, {
    isEncryptionAvailable: () => true,
    encryptString: (s) => Buffer.from(s).reverse(),
    decryptString: (b) => Buffer.from(b).reverse().toString(),
    getSelectedStorageBackend: () => 'gnome_libsecret',
  });
  const lan = new LanDashboard(
    {
      start: async () => {
        throw new Error('not in this test');
      },
      issuePairingToken: async () => 't',
    },
    () => ({}),
  );
  const harness = createHarness({
    core: fakeCore(manager, extra.providers),
    secrets,
    lan,
    notify: (e) => notified.push(e),
    sessionsChanged: (sessions) => tray.push(sessions.filter((s) => s.state === 'waiting_input').length),
    focusWindow: (id) => focused.push(id),
    openExternal: (url) => opened.push(url),
    selectDirectory: async () => '/picked',
  });
  return {
    ...harness,
    notified,
    focused,
    tray,
    opened,
    secrets,
    cleanup() {
      harness.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('notifications fire only for sessions not in view; a click focuses the window and the tab', async (t) => {
  const manager = new FakeManager();
  const h = setup(manager);
  t.after(() => h.cleanup());
  let windowFocused = true;
  const win = connectWindow(h.controller, h.ipcMain, bundle.file, {
    webContentsId: 1,
    focused: () => windowFocused,
  });
  const s1 = await win.api.createSession({ cli_tool: 'shell' });
  const s2 = await win.api.createSession({ cli_tool: 'shell' });
  await win.api.desktop.setViewedSession(s1.session_id);
  manager.setState(s1.session_id, 'processing');
  manager.setState(s2.session_id, 'processing');
  manager.setState(s1.session_id, 'waiting_input');
  assert.equal(h.notified.length, 0, 'the tab in view does not notify');
  manager.setState(s2.session_id, 'waiting_input');
  assert.deepEqual(
    h.notified.map((n) => [n.kind, n.session_id]),
    [['needs_input', s2.session_id]],
  );
  windowFocused = false;
  manager.setState(s1.session_id, 'completed', 'exit', { exit_code: 0 });
  assert.deepEqual(h.notified.at(-1), {
    kind: 'finished',
    session_id: s1.session_id,
    title: `shell finished`,
    body: 'now completed',
  });
  assert.equal(h.notified.length, 2);
  assert.equal(h.tray.at(-1), 1, 'tray count follows the sessions waiting');

  const desktopEvents: DesktopEvent[] = [];
  win.api.desktop.onDesktopEvent((e) => desktopEvents.push(e));
  h.controller.focusSession(s2.session_id);
  assert.deepEqual(h.focused, [1]);
  await waitFor('focus event', () => desktopEvents.find((e) => e.kind === 'focus_session'));
  assert.deepEqual(desktopEvents[0], { kind: 'focus_session', session_id: s2.session_id });
});

test('live events reach subscribed windows only; closing a window releases its PTY consumers', async (t) => {
  const manager = new FakeManager();
  const h = setup(manager);
  t.after(() => h.cleanup());
  const a = connectWindow(h.controller, h.ipcMain, bundle.file, { webContentsId: 1 });
  const b = connectWindow(h.controller, h.ipcMain, bundle.file, { webContentsId: 2 });
  const events: LiveEvent[] = [];
  a.api.onEvent((e) => events.push(e));
  await waitFor('subscribed', () => h.controller.resolveWindow(1)!.subscribed);
  const s = await b.api.createSession({ cli_tool: 'shell' });
  await waitFor('created event', () => events.find((e) => e.kind === 'session_created'));
  assert.ok(
    b.batches.every((batch) => batch.items.every((i) => i.kind !== 'live')),
    'window b did not subscribe',
  );

  const output: string[] = [];
  b.api.attach(s.session_id, {
    onOutput: (_seq, data, parsed) => {
      output.push(data);
      parsed();
    },
    onSnapshot: () => {},
    onStatus: () => {},
    onError: () => {},
  });
  await waitFor('consumer', () => manager.consumers.length === 1);
  manager.emit(s.session_id, 'hello from the pty');
  await waitFor('output', () => output.join('') === 'hello from the pty');
  await waitFor('ack reached the manager', () => manager.consumers[0]!.acked === 'hello from the pty'.length);
  h.controller.removeWindow(2);
  assert.equal(manager.consumers[0]!.disposed, true);
});

test('foreign frames are refused end to end; the window keeps working', async (t) => {
  const manager = new FakeManager();
  const h = setup(manager);
  t.after(() => h.cleanup());
  const evil = connectWindow(h.controller, h.ipcMain, bundle.file, {
    webContentsId: 3,
    frame: frame('https://evil.example/'),
  });
  await assert.rejects(evil.api.createSession({ cli_tool: 'shell' }), /\[FORBIDDEN\]/);
  await assert.rejects(evil.api.desktop.startLan({ host: '0.0.0.0' }), /\[FORBIDDEN\]/);
  await assert.rejects(evil.api.desktop.setSecret('ANTHROPIC_API_KEY', 'x'), /\[FORBIDDEN\]/);
  assert.equal(manager.sessions.size, 0);
  const good = connectWindow(h.controller, h.ipcMain, bundle.file, { webContentsId: 4 });
  assert.equal((await good.api.whoami()).mode, 'desktop');
  // Fuzzing the real bridge: validation errors, main alive.
  await assert.rejects(good.api.getSession('x'.repeat(10 * 1024 * 1024)), /\[VALIDATION_ERROR\]/);
  await assert.rejects(good.api.renameSession('s1', 42 as unknown as string), /\[VALIDATION_ERROR\]/);
  await assert.rejects(good.api.getSession('s1'), /\[NOT_FOUND\]/);
  assert.equal((await good.api.listSessions()).total, 0);
});

test("stored API keys reach only their provider's sessions; the renderer sees set/not set", async (t) => {
  const manager = new FakeManager();
  const h = setup(manager, {
    providers: [
      { id: 'claude', env_keys: ['ANTHROPIC_API_KEY'] },
      { id: 'shell', env_keys: [] },
    ],
  });
  t.after(() => h.cleanup());
  const win = connectWindow(h.controller, h.ipcMain, bundle.file, { webContentsId: 1 });
  const info = await win.api.desktop.setSecret('ANTHROPIC_API_KEY', 'sk-ant-secret-value');
  assert.deepEqual(info.secrets, [{ name: 'ANTHROPIC_API_KEY', set: true }]);
  assert.ok(!JSON.stringify(win.batches).includes('sk-ant-secret-value'));
  const claude = await win.api.createSession({ cli_tool: 'claude' });
  const shell = await win.api.createSession({ cli_tool: 'shell' });
  assert.deepEqual(claude.metadata['env_keys'], ['ANTHROPIC_API_KEY']);
  assert.deepEqual(shell.metadata['env_keys'], []);
  assert.equal(await win.api.desktop.openExternal('https://github.com/x'), true);
  assert.equal(await win.api.desktop.openExternal('file:///etc/passwd'), false);
  assert.deepEqual(h.opened, ['https://github.com/x']);
  assert.equal(await win.api.desktop.selectDirectory(), '/picked');
});
