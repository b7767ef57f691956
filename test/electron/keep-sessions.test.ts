import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers.ts';

/**
 * Issue 12 in the desktop app (main.ts under the fake-electron harness, real core and PTY host): quitting
 * asks whether to keep the agents; "Keep running" leaves them in the PTY host and the next launch takes
 * them over; "Stop agents" ends them.
 */
function launch(userData: string, env: Record<string, string>) {
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      path.join(ROOT, 'test/electron/fixtures/register-fake-electron.mjs'),
      path.join(ROOT, 'src-main/electron/main.ts'),
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        PATH: process.env.PATH,
        HOME: userData,
        SHELL: '/bin/bash',
        TERM: 'xterm-256color',
        LANG: 'C.UTF-8',
        AUTODEV_USER_DATA_DIR: userData,
        AUTODEV_LOG_LEVEL: 'warn',
        ...env,
      },
    },
  );
  const line = r.stdout.split('\n').find((l) => l.startsWith('REPORT '));
  assert.ok(line, `no report (status ${r.status}):\n${r.stderr.slice(-3000)}`);
  const report = JSON.parse(line.slice('REPORT '.length));
  assert.equal(report.error, undefined, report.error);
  return report;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('desktop quit: "Keep running" leaves the agents in the PTY host; the next launch takes them over', (t) => {
  const userData = mkdtempSync(path.join(os.tmpdir(), 'autodev-keep-'));
  t.after(() => {
    try {
      const manifest = JSON.parse(readFileSync(path.join(userData, 'pty-host', 'manifest.json'), 'utf8'));
      process.kill(manifest.pid, 'SIGKILL');
    } catch {}
    rmSync(userData, { recursive: true, force: true });
  });
  const first = launch(userData, { FAKE_QUIT_RESPONSE: '0' });
  assert.ok(
    first.calls.some((c: string) => c.startsWith('showMessageBox:Keep running|Stop agents|Cancel')),
    'the user was asked',
  );
  assert.equal(first.exitCode, 0);
  assert.equal(first.sessionAliveAfterQuit, true, 'the agent runs on after the app quit');
  assert.ok(alive(first.pid));

  const second = launch(userData, { FAKE_SCENARIO: 'reattach', FAKE_QUIT_RESPONSE: '1' });
  const kept = second.sessions.find((s: { pid: number }) => s.pid === first.pid);
  assert.ok(kept, `the kept session is listed: ${JSON.stringify(second.sessions)}`);
  assert.ok(!['completed', 'terminated', 'error'].includes(kept.state), kept.state);
  assert.equal(kept.reason.rule, 'reattached');
  assert.equal(second.exitCode, 0);
  assert.equal(alive(first.pid), false, '"Stop agents" ended it');
});
