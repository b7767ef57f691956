import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir, until } from '../pty-host/helpers.ts';
import { launchDesktop } from './desktop-driver.ts';
import { fakeElectronArgs, ROOT } from './helpers.ts';

/**
 * Issue 12 in the desktop app (main.ts under the fake-electron harness, real core and PTY host): quitting
 * asks whether to keep the agents; "Keep running" leaves them in the PTY host and the next launch takes
 * them over; "Stop agents" ends them.
 */
function launch(userData: string, env: Record<string, string>) {
  const r = spawnSync(process.execPath, fakeElectronArgs('src-main/electron/main.ts'), {
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
  });
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
  assert.ok(
    kept.state_reasons.some((r: string) => /reattached after AutoDev restarted/.test(r)),
    `the state history records the reattach: ${JSON.stringify(kept.state_reasons)}`,
  );
  assert.equal(second.exitCode, 0);
  assert.equal(alive(first.pid), false, '"Stop agents" ended it');
});

function writePromptAgent(userData: string): void {
  mkdirSync(path.join(userData, '.autodev'), { recursive: true });
  const providers = {
    prompt: {
      name: 'Prompt agent',
      binary: process.execPath,
      interactive_args: [path.join(ROOT, 'test/fixtures/agents/proc-prompt.mjs')],
      stability_ms: 300,
      screen_rules: [
        {
          id: 'test.prompt',
          pattern: '^>\\s*$',
          region: { kind: 'last-lines', count: 1 },
          state: 'waiting_input',
        },
      ],
    },
  };
  writeFileSync(path.join(userData, '.autodev', 'providers.yaml'), JSON.stringify({ providers }));
}

test('the tray says how many agents are running, live; "Keep running" tells the user they go on in the background', {
  timeout: 90_000,
}, async (t) => {
  const userData = tempDir(t, 'autodev-tray-');
  writePromptAgent(userData);
  const first = launchDesktop(t, userData, { answer: (d) => d.buttons.indexOf('Keep running') });
  await first.ready;
  const status = async () => {
    const tray = await first.tray();
    return { tooltip: tray.tooltip, first: tray.menu[0], labels: tray.menu.map((m) => m.label) };
  };
  assert.deepEqual(await status(), {
    tooltip: 'AutoDev — no agents running',
    first: { label: 'No agents running', enabled: false },
    labels: ['No agents running', 'separator', 'Show AutoDev', 'New Session', 'separator', 'quit'],
  });

  const shell = (await first.invoke('autodev:sessions:create', { request: { cli_tool: 'shell' } })).value;
  const agent = (await first.invoke('autodev:sessions:create', { request: { cli_tool: 'prompt' } })).value;
  await until(
    async () => (await status()).tooltip === 'AutoDev — 2 agents running, 1 needs you',
    20_000,
    'the tray counting two agents, one at its prompt',
  );
  assert.deepEqual((await status()).first, { label: '2 agents running, 1 needs you', enabled: false });
  await first.invoke('autodev:sessions:terminate', { session_id: shell.session_id });
  await until(
    async () => (await status()).tooltip === 'AutoDev — 1 agent running, 1 needs you',
    20_000,
    'the tray after one agent ended',
  );
  assert.equal((await status()).first?.label, '1 agent running, 1 needs you');
  assert.deepEqual(await first.notifications(), [], 'nothing said yet');

  const quit = await first.quit();
  assert.deepEqual(
    first.dialogs.map((d) => d.message),
    ['1 agent is still running.'],
  );
  assert.equal(quit.appExit?.code, 0);
  assert.deepEqual(quit.appExit?.notifications, [
    { title: 'AutoDev', body: '1 agent keeps running in the background; open AutoDev to see them.' },
  ]);
  const pid = agent.pid as number;
  assert.ok(alive(pid), 'the agent runs on');

  // The next launch's tray counts the agent it took over; "Stop agents" ends it and says nothing more.
  const second = launchDesktop(t, userData, { answer: (d) => d.buttons.indexOf('Stop agents') });
  await second.ready;
  await until(
    async () => (await second.tray()).tooltip === 'AutoDev — 1 agent running, 1 needs you',
    20_000,
    'the tray after the takeover',
  );
  const stopped = await second.quit();
  assert.equal(stopped.appExit?.code, 0);
  assert.deepEqual(stopped.appExit?.notifications, []);
  await until(() => !alive(pid), 10_000, '"Stop agents" ended it');
});
