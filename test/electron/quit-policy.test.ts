import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src-main/core/config.ts';
import {
  decideQuit,
  type QuitDecisionInput,
  type QuitDialogAnswer,
  quitDialog,
  readRememberedQuit,
  writeRememberedQuit,
} from '../../src-main/electron/quit-policy.ts';
import { pidAlive, tempDir, until } from '../pty-host/helpers.ts';
import { launchDesktop } from './desktop-driver.ts';

/**
 * What quitting the desktop app does with running agents (src-main/electron/quit-policy.ts): the
 * config's keep_sessions decides when set; otherwise a remembered answer; otherwise the user is asked
 * ("Keep running" / "Stop agents" / "Cancel", "Remember my choice" stored in desktop-settings.json).
 */

function scratch(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'autodev-quit-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** decideQuit with an `ask` that answers `answer` and records what was asked and remembered. */
function decide(input: Partial<QuitDecisionInput>, answer?: QuitDialogAnswer) {
  const asked: number[] = [];
  const remembered: string[] = [];
  const choice = decideQuit({
    running: 2,
    configured: undefined,
    remembered: null,
    ask: async (n) => {
      asked.push(n);
      if (!answer) throw new Error('asked, but the test gave no answer');
      return answer;
    },
    remember: (c) => remembered.push(c),
    ...input,
  });
  return choice.then((c) => ({ choice: c, asked, remembered }));
}

test('quit policy: keep_sessions in the config decides without asking (true keeps, false stops), over a remembered answer', async (t) => {
  assert.deepEqual(await decide({ configured: true }), { choice: 'keep', asked: [], remembered: [] });
  assert.deepEqual(await decide({ configured: false }), { choice: 'stop', asked: [], remembered: [] });
  assert.deepEqual(await decide({ configured: false, remembered: 'keep' }), {
    choice: 'stop',
    asked: [],
    remembered: [],
  });
  assert.deepEqual(await decide({ configured: true, remembered: 'stop' }), {
    choice: 'keep',
    asked: [],
    remembered: [],
  });
  // Nothing running: nothing to keep, nobody asked.
  assert.deepEqual(await decide({ running: 0 }), { choice: 'stop', asked: [], remembered: [] });

  // The key as the desktop app reads it (openDesktopCore passes loadConfig's keepSessions).
  const dir = scratch(t);
  assert.equal(loadConfig({ dataDir: dir, env: {} }).keepSessions, undefined, 'unset: the app asks');
  writeFileSync(path.join(dir, 'config.yaml'), 'keep_sessions: true\n');
  assert.equal(loadConfig({ dataDir: dir, env: {} }).keepSessions, true);
  writeFileSync(path.join(dir, 'config.yaml'), 'keep_sessions: false\n');
  assert.equal(loadConfig({ dataDir: dir, env: {} }).keepSessions, false);
});

test('quit policy: "Remember my choice" is stored in desktop-settings.json (0600) and used without asking next time', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'desktop-settings.json');
  assert.equal(readRememberedQuit(dir), null, 'no file: nothing remembered');

  // Not ticked: nothing stored.
  const once = await decide({ remembered: readRememberedQuit(dir) }, { choice: 'keep', remember: false });
  assert.deepEqual(once, { choice: 'keep', asked: [2], remembered: [] });

  // Ticked: stored, 0600, other settings kept, no temporary file left behind.
  writeFileSync(file, JSON.stringify({ other: 'kept' }), { mode: 0o644 });
  const first = await decideQuit({
    running: 3,
    configured: undefined,
    remembered: readRememberedQuit(dir),
    ask: async () => ({ choice: 'stop', remember: true }),
    remember: (c) => writeRememberedQuit(dir, c),
  });
  assert.equal(first, 'stop');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { other: 'kept', on_quit: 'stop' });
  assert.equal(statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['desktop-settings.json']);
  assert.equal(readRememberedQuit(dir), 'stop');

  // The next quit follows it without asking.
  assert.deepEqual(await decide({ remembered: readRememberedQuit(dir) }), {
    choice: 'stop',
    asked: [],
    remembered: [],
  });
  writeRememberedQuit(dir, 'keep');
  assert.equal(readRememberedQuit(dir), 'keep');
  assert.equal(statSync(file).mode & 0o777, 0o600);

  // A corrupt file or a value of no meaning is no answer: the user is asked again.
  writeFileSync(file, '{not json');
  assert.equal(readRememberedQuit(dir), null);
  writeFileSync(file, JSON.stringify({ on_quit: 'cancel' }));
  assert.equal(readRememberedQuit(dir), null);
  writeRememberedQuit(dir, 'keep'); // a corrupt file is replaced
  assert.equal(readRememberedQuit(dir), 'keep');
});

test('quit policy: Cancel quits nothing and is never remembered; the dialog maps its buttons', async () => {
  assert.deepEqual(await decide({}, { choice: 'cancel', remember: true }), {
    choice: 'cancel',
    asked: [2],
    remembered: [],
  });

  const one = quitDialog(1);
  assert.equal(one.options.message, '1 agent is still running.');
  assert.equal(quitDialog(3).options.message, '3 agents are still running.');
  assert.deepEqual(one.options.buttons, ['Keep running', 'Stop agents', 'Cancel']);
  assert.equal(one.options.cancelId, 2, 'Escape or closing the box is Cancel');
  assert.equal(one.options.checkboxLabel, 'Remember my choice');
  assert.equal(one.options.checkboxChecked, false);
  assert.deepEqual(one.answerOf({ response: 0 }), { choice: 'keep', remember: false });
  assert.deepEqual(one.answerOf({ response: 1, checkboxChecked: true }), { choice: 'stop', remember: true });
  assert.deepEqual(one.answerOf({ response: 2, checkboxChecked: true }), {
    choice: 'cancel',
    remember: true,
  });
});

/** main.ts's quit under the fake electron, the real core and PTY host: one shell agent running. */
async function launchWithAgent(
  t: { after(fn: () => unknown): void },
  userData: string,
  answers: ({ response: number; checkboxChecked?: boolean } | number)[] = [],
) {
  const app = launchDesktop(t, userData, {
    answer: () => {
      // One not expected: "Stop agents" (the test's assertions on `dialogs` then fail).
      return answers.shift() ?? 1;
    },
  });
  await app.ready;
  return app;
}

test('main.ts quit: keep_sessions in the config skips the dialog — true leaves the agent running, false ends it', {
  timeout: 90_000,
}, async (t) => {
  const userData = tempDir(t, 'autodev-quit-config-');
  writeFileSync(path.join(userData, 'config.yaml'), 'keep_sessions: true\n');
  const first = await launchWithAgent(t, userData);
  const created = await first.invoke('autodev:sessions:create', { request: { cli_tool: 'shell' } });
  const pid = created.value.pid as number;
  const kept = await first.quit();
  assert.equal(kept.appExit?.code, 0);
  assert.deepEqual(first.dialogs, [], 'keep_sessions: true — not asked');
  assert.ok(pidAlive(pid), 'the agent runs on');

  writeFileSync(path.join(userData, 'config.yaml'), 'keep_sessions: false\n');
  const second = await launchWithAgent(t, userData);
  const listed = await second.invoke('autodev:sessions:list', {});
  assert.ok(
    listed.value.items.some((s: { pid: number; ended_at: string | null }) => s.pid === pid && !s.ended_at),
  );
  const stopped = await second.quit();
  assert.equal(stopped.appExit?.code, 0);
  assert.deepEqual(second.dialogs, [], 'keep_sessions: false — not asked');
  await until(() => !pidAlive(pid), 10_000, 'the agent ended');
});

test('main.ts quit: Cancel leaves the app open; "Remember my choice" is stored and the next quit does not ask', {
  timeout: 90_000,
}, async (t) => {
  const userData = tempDir(t, 'autodev-quit-remember-');
  const first = await launchWithAgent(t, userData, [2, { response: 0, checkboxChecked: true }]);
  const created = await first.invoke('autodev:sessions:create', { request: { cli_tool: 'shell' } });
  const pid = created.value.pid as number;

  await first.requestQuit();
  await until(() => first.dialogs.length === 1, 20_000, 'the quit question');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(first.child.exitCode, null, 'Cancel: the app is still running');
  const whoami = await first.invoke('autodev:whoami');
  assert.equal(whoami.ok, true, 'and still answers its window');
  assert.ok(pidAlive(pid));
  assert.equal(readRememberedQuit(userData), null, 'Cancel is never remembered');

  // Quitting again asks again (Cancel reset the quit); "Keep running" with the box ticked.
  const kept = await first.quit();
  assert.equal(kept.appExit?.code, 0);
  assert.equal(first.dialogs.length, 2);
  assert.ok(pidAlive(pid), 'kept');
  const settings = path.join(userData, 'desktop-settings.json');
  assert.deepEqual(JSON.parse(readFileSync(settings, 'utf8')), { on_quit: 'keep' });
  assert.equal(statSync(settings).mode & 0o777, 0o600);

  const second = await launchWithAgent(t, userData);
  const again = await second.quit();
  assert.equal(again.appExit?.code, 0);
  assert.deepEqual(second.dialogs, [], 'the remembered answer: not asked');
  assert.ok(pidAlive(pid), 'kept again, as remembered');
});
