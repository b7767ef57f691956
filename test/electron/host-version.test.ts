import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readManifest } from '../../src-main/core/pty-host/host-launcher.ts';
import { PTY_HOST_PROTOCOL_VERSION } from '../../src-shared/pty-host-protocol.ts';
import { hostPid, pidAlive, startForeignHost, tempDir, until } from '../pty-host/helpers.ts';
import { launchDesktop } from './desktop-driver.ts';

/**
 * Issue 12, versions, in the desktop app (main.ts under the fake electron, the real core): a PTY host
 * of another protocol version (an older AutoDev's, still running its agents) is never killed silently.
 * The app says so and offers "Restart the PTY host (ends N agents)" — the mechanism of `autodev
 * sessions --restart-host` — or "Quit", which leaves the host and its agents running.
 */

const RESTART = /^Restart the PTY host \(ends 2 agents\)$/;

test('desktop: a PTY host of another protocol version is never killed silently; "Quit" leaves it and its agents running', {
  timeout: 90_000,
}, async (t) => {
  const dir = tempDir(t, 'autodev-desk-version-');
  const foreign = await startForeignHost(t, dir, { sessions: 2 });
  const app = launchDesktop(t, dir, { answer: (d) => d.buttons.indexOf('Quit') });
  const exit = await Promise.race([
    app.exited,
    app.ready.then(
      () => null,
      () => app.exited,
    ),
  ]);
  assert.ok(exit, `the app started instead of quitting; asked: ${JSON.stringify(app.dialogs)}`);

  assert.equal(app.dialogs.length, 1, app.output());
  const [asked] = app.dialogs;
  assert.equal(asked!.buttons.length, 2);
  assert.match(asked!.buttons[0]!, RESTART);
  assert.equal(asked!.buttons[1], 'Quit');
  assert.equal(asked!.cancelId, 1, 'Escape or closing the box quits, it never restarts');
  assert.equal(asked!.defaultId, 1);
  assert.match(`${asked!.message} ${asked!.detail}`, /protocol 99/);
  assert.match(`${asked!.message} ${asked!.detail}`, /AutoDev 0\.0\.9/);
  assert.match(`${asked!.message} ${asked!.detail}`, /2 agents/);

  assert.equal(exit.appExit?.code, 0, `app.exit(0): ${app.output().slice(-2000)}`);
  assert.equal(exit.code, 0);
  assert.ok(!exit.appExit?.calls.some((c) => c.startsWith('showErrorBox')), 'no error box: a choice');
  assert.ok(pidAlive(foreign.standIn.pid!), 'the old host was not told to stop');
  assert.ok(foreign.server.listening, 'and it still serves');
  assert.equal(hostPid(dir), foreign.standIn.pid, 'its manifest is untouched');
});

test('desktop: "Restart the PTY host" stops a host of another version as `autodev sessions --restart-host` does, then starts on a new host', {
  timeout: 90_000,
}, async (t) => {
  const dir = tempDir(t, 'autodev-desk-version-');
  const foreign = await startForeignHost(t, dir, { sessions: 2 });
  const app = launchDesktop(t, dir, {
    answer: (d) => (RESTART.test(d.buttons[0] ?? '') ? 0 : d.buttons.indexOf('Stop agents')),
  });
  await app.ready;

  assert.equal(app.dialogs.length, 1);
  assert.match(app.dialogs[0]!.buttons[0]!, RESTART);
  // An old host cannot be asked in its protocol: it is told with SIGTERM, which ends its sessions.
  assert.equal(await foreign.standInExit, 'SIGTERM');
  const host = hostPid(dir);
  assert.ok(host && host !== foreign.standIn.pid && pidAlive(host), 'a new host of this version');

  // The app works on it: a session runs.
  const created = await app.invoke('autodev:sessions:create', { request: { cli_tool: 'shell' } });
  assert.equal(created.ok, true, JSON.stringify(created));
  await until(
    async () =>
      (await app.invoke('autodev:sessions:get', { session_id: created.value.session_id })).value.last_seq > 0,
    15_000,
    'shell output through the new host',
  );
  assert.equal(readManifest(dir)?.protocol, PTY_HOST_PROTOCOL_VERSION);

  const quit = await app.quit();
  assert.equal(quit.appExit?.code, 0);
  assert.equal(app.dialogs.length, 2, 'then only the usual quit question');
});
