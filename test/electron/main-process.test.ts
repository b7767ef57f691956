import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { auditWebPreferences } from '../../src-main/electron/window-options.ts';
import { IPC_CHANNELS, IPC_EVENT_CHANNEL } from '../../src-shared/ipc.ts';
import { fakeElectronArgs, ROOT } from './helpers.ts';

/**
 * The real main process module (src-main/electron/main.ts) run under Node with `electron` resolved to
 * a recording fake (fixtures/fake-electron.mjs): proves the wiring — sandbox and privileged scheme
 * before ready, hardened window on app://bundle, every IPC channel registered and sender-checked,
 * real core sessions streaming through webContents.send batches, the quit sequence killing sessions.
 */
test('main.ts wiring under a fake electron module, against the real core', (t) => {
  const userData = mkdtempSync(path.join(os.tmpdir(), 'autodev-main-'));
  t.after(() => rmSync(userData, { recursive: true, force: true }));
  const r = spawnSync(process.execPath, fakeElectronArgs('src-main/electron/main.ts'), {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      PATH: process.env['PATH'],
      HOME: userData,
      SHELL: '/bin/bash',
      TERM: 'xterm-256color',
      LANG: 'C.UTF-8',
      AUTODEV_USER_DATA_DIR: userData,
      AUTODEV_LOG_LEVEL: 'warn',
    },
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('REPORT '));
  assert.ok(line, `no report (status ${r.status}):\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-2000)}`);
  const report = JSON.parse(line.slice('REPORT '.length));
  assert.equal(report.error, undefined, report.error);

  // Before `ready`: single-instance lock, sandbox for all renderers, privileged app:// scheme.
  assert.deepEqual(report.calls.slice(0, 3), [
    'requestSingleInstanceLock',
    'enableSandbox(ready=false)',
    'registerSchemesAsPrivileged(ready=false)',
  ]);
  assert.deepEqual(report.schemes, [
    { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  ]);

  // The window: hardened preferences, loaded from app://bundle, served with the CSP.
  assert.deepEqual(auditWebPreferences(report.windowOptions.webPreferences), []);
  assert.match(report.windowOptions.webPreferences.preload, /dist[/\\]preload[/\\]preload\.cjs$/);
  assert.equal(report.loaded, 'app://bundle/index.html');
  assert.equal(report.index.status, 200);
  assert.match(report.index.csp, /default-src 'none'/);
  assert.ok([403, 404].includes(report.traversal));
  assert.equal(report.permissionCheck, false);
  assert.deepEqual(report.openHandler, { action: 'deny' });
  assert.ok(report.menuLabels.includes('Session') && report.menuLabels.includes('Edit'));

  // IPC: every contract channel, sender-checked, validated.
  assert.deepEqual([...report.channels].sort(), [...IPC_CHANNELS].sort());
  assert.deepEqual(report.whoami, {
    ok: true,
    value: { user_id: 'local', scope: 'control', mode: 'desktop' },
  });
  assert.equal(report.evil.ok, false);
  assert.equal(report.evil.error.error_code, 'FORBIDDEN');
  assert.equal(report.secretRefused.ok, false, 'basic_text safeStorage refuses API keys without opt-in');
  assert.match(report.secretRefused.error.error, /basic_text/);

  // A real shell session streaming through batched webContents.send.
  assert.equal(report.created, true);
  assert.equal(report.attach.ok, true);
  assert.equal(report.sawOutput, true);
  assert.deepEqual(report.eventChannels, [IPC_EVENT_CHANNEL]);
  assert.ok(report.liveKinds.includes('session_created'));
  assert.deepEqual(
    report.batchNumbers,
    report.batchNumbers.map((_: number, i: number) => i + 1),
    'batches are numbered without gaps',
  );
  assert.equal(report.ack.ok, true);
  assert.match(report.tooltip, /^AutoDev — 1 agent running/);

  // LAN dashboard toggle: real server on loopback, indicator in the tray tooltip, events to the window.
  assert.equal(report.lanStart.ok, true, JSON.stringify(report.lanStart));
  assert.match(report.lanStart.value.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(report.lanTooltip, /LAN dashboard ON at http:\/\/127\.0\.0\.1:/);
  assert.equal(report.lanStop.value.running, false);
  assert.deepEqual(report.lanEvents, [true, false]);

  // Quit: sessions terminated, then exit(0).
  assert.equal(report.exitCode, 0);
  assert.ok(report.pid > 0);
  assert.equal(report.sessionAliveAfterQuit, false);
  assert.equal(r.status, 0, r.stderr.slice(-2000));
});
