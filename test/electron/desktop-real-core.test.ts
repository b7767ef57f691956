import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { LanStatus } from '../../src-shared/ipc.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import type { LiveEvent } from '../../src-shared/ws-protocol.ts';
import { connectWindow, waitFor } from './bridge-harness.ts';
import { buildPreload } from './helpers.ts';
import { openRealDesktop } from './real-desktop.ts';

let bundle: { file: string; dir: string };
before(() => {
  bundle = buildPreload();
});
after(() => rmSync(bundle.dir, { recursive: true, force: true }));

/**
 * The desktop IPC path against the real core: real SQLite in a temp userData, a real bash in a real
 * PTY, the real headless server for the LAN toggle (127.0.0.1 only). Only Electron itself is absent.
 */
test('real core: create a shell, type, see output, acks flow, LAN toggle, orderly shutdown', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-desktop-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: dataDir,
    SHELL: '/bin/bash',
    TERM: 'xterm-256color',
    LANG: 'C.UTF-8',
  };
  const { opened, harness: h, shutdown } = await openRealDesktop(dataDir, env);
  let shutDown = false;
  t.after(async () => {
    if (!shutDown) await shutdown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const win = connectWindow(h.controller, h.ipcMain, bundle.file, { webContentsId: 1 });
  const { api } = win;
  assert.deepEqual(await api.whoami(), { user_id: 'local', scope: 'control', mode: 'desktop' });
  assert.ok((await api.listProviders()).some((p) => p.id === 'shell'));
  assert.ok(opened.providerEnvKeys.includes('ANTHROPIC_API_KEY'));

  const events: LiveEvent[] = [];
  api.onEvent((e) => events.push(e));
  const session = await api.createSession({ cli_tool: 'shell', cols: 100, rows: 30 });
  await waitFor('session_created event', () => events.find((e) => e.kind === 'session_created'));

  let screen = '';
  let status: SessionInfo | null = null;
  let snapshots = 0;
  const term = api.attach(session.session_id, {
    onOutput: (_seq, data, parsed) => {
      screen += data;
      parsed(); // what xterm's write callback does in the renderer
    },
    onSnapshot: () => {
      snapshots++;
    },
    onStatus: (s) => {
      status = s;
    },
    onError: (e) => assert.fail(`terminal error ${e.error_code}: ${e.error}`),
  });
  await waitFor('attach snapshot + status', () => snapshots === 1 && status !== null);
  term.command('echo desktop-$((6*7))');
  await waitFor('command output', () => screen.includes('desktop-42'), 30_000);
  term.input('printf "typed-%s\\n" keys\r');
  await waitFor('typed output', () => screen.includes('typed-keys'), 30_000);

  // Every delivered character was acked back to the manager after "parsing".
  const attachmentId = (
    win.invocations.find((i) => i.channel === 'autodev:terminal:attach')!.payload as {
      attachment_id: string;
    }
  ).attachment_id;
  await waitFor(
    'acks settled',
    () => h.controller.resolveWindow(1)!.attachments.outstanding(attachmentId) === 0,
  );
  const diag = await api.getDiagnostics(session.session_id);
  assert.equal(diag.output.paused, false);

  const list = await api.listSessions();
  assert.ok(list.items.some((s) => s.session_id === session.session_id));

  // LAN dashboard toggle: a real server on loopback, a fresh token that the server accepts.
  const lanEvents: LanStatus[] = [];
  api.desktop.onDesktopEvent((e) => {
    if (e.kind === 'lan') lanEvents.push(e.status);
  });
  await assert.rejects(api.desktop.startLan({ host: '8.8.8.8' }), /not an address of this machine/);
  const on = await api.desktop.startLan({ host: '127.0.0.1', port: 0 });
  assert.equal(on.running, true);
  assert.match(on.url!, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.ok(on.token && on.token.length > 20);
  assert.ok(on.qr && on.qr.length >= 21 + 8, 'QR rows for the pairing URL');
  const health = await fetch(`${on.url}health`);
  assert.equal(health.status, 200);
  const authed = await fetch(`${on.url}cli/sessions`, { headers: { authorization: `Bearer ${on.token}` } });
  assert.equal(authed.status, 200);
  const body = (await authed.json()) as { items?: { session_id: string }[]; sessions?: unknown[] };
  assert.ok(JSON.stringify(body).includes(session.session_id), 'the dashboard sees the desktop session');
  assert.equal((await fetch(`${on.url}cli/sessions`)).status, 401);
  await waitFor('lan indicator event', () => lanEvents.some((s) => s.running));
  const off = await api.desktop.stopLan();
  assert.equal(off.running, false);
  await assert.rejects(fetch(`${on.url}health`), 'nothing listens after stop');

  // Secrets refuse when no OS encryption exists.
  await assert.rejects(api.desktop.setSecret('ANTHROPIC_API_KEY', 'x'), /\[FORBIDDEN\]/);

  const pid = (await api.getSession(session.session_id)).pid!;
  assert.ok(pid > 0);
  const results = await shutdown();
  shutDown = true;
  assert.deepEqual(
    results.map((r) => [r.name, r.ok]),
    [
      ['lan', true],
      ['windows', true],
      ['sessions', true],
      ['core', true],
    ],
  );
  assert.throws(() => process.kill(pid, 0), 'the shell is gone after quit');
});
