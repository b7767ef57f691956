import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { loadConfig } from '../../src-main/core/config.ts';
import { createCore } from '../../src-main/core/core.ts';
import { createLogger } from '../../src-main/core/log/logger.ts';
import { PtyHostClient } from '../../src-main/core/pty-host/host-client.ts';
import { hostPaths } from '../../src-main/core/pty-host/host-paths.ts';
import {
  cleanEnv,
  hostPid,
  pidAlive,
  runCli,
  runCliAsync,
  startForeignHost,
  startServe,
  tempDir,
  until,
} from './helpers.ts';

/** Issue 12: the host dies, the user quits, the versions differ. */

async function core(t: { after(fn: () => unknown): void }, dir: string) {
  const env = cleanEnv(dir);
  const logs: string[] = [];
  const c = await createCore(loadConfig({ dataDir: dir, env }), {
    env,
    tasks: false,
    logger: createLogger({ level: 'debug', sink: (l) => logs.push(l) }),
    manager: {
      loginPath: async () => process.env.PATH ?? '/usr/bin:/bin',
      limits: { terminate_grace_ms: 1000 },
    },
  });
  t.after(() => c.close());
  return { core: c, logs };
}

test('kill -9 of the PTY host: its sessions are marked lost within 2 s, nothing is left running, the host is restarted', async (t) => {
  const dir = tempDir(t);
  const { core: c } = await core(t, dir);
  const first = hostPid(dir)!;
  assert.ok(pidAlive(first));
  // What the dashboard's events channel carries about the host.
  const hostEvents: { connected: boolean; restarts: number }[] = [];
  c.onLiveEvent((e) => {
    if (e.kind === 'pty_host') hostEvents.push(e.status);
  });
  const a = await c.sessions.create({ cli_tool: 'shell', env: { HOME: dir } });
  const b = await c.sessions.create({ cli_tool: 'shell', env: { HOME: dir } });
  await until(
    () => c.sessions.get(a.session_id)!.last_seq > 0 && c.sessions.get(b.session_id)!.last_seq > 0,
    10_000,
    'prompts',
  );
  // A child that ignores SIGHUP, in its own group: it would outlive the host's PTYs if nobody killed it.
  c.sessions.input(a.session_id, 'trap "" HUP; (trap "" HUP; exec sleep 1000) & echo bg=$!\r');
  const bg = await until(
    () => {
      const text =
        c.sessions
          .replay(a.session_id, 0)
          ?.map((x) => x.data)
          .join('') ?? '';
      return /bg=(\d+)/.exec(text)?.[1];
    },
    10_000,
    'the background pid',
  );
  const agents = [a.session_id, b.session_id].map((id) => c.sessions.get(id)!.pid!);

  const killedAt = Date.now();
  process.kill(first, 'SIGKILL');
  await until(
    () => [a, b].every((s) => c.sessions.get(s.session_id)!.state === 'error'),
    2000,
    'sessions marked lost within 2 s',
  );
  assert.ok(Date.now() - killedAt <= 2000);
  const lost = c.sessions.get(a.session_id)!;
  assert.match(lost.state_reason.detail, /lost: the PTY host .* stopped/);
  assert.equal(lost.state_reason.rule, 'host-lost');
  await until(() => !pidAlive(Number(bg)) && agents.every((p) => !pidAlive(p)), 5000, 'no orphan left');

  const status = await until(
    () => {
      const s = c.ptyHostStatus();
      return s?.connected && s.restarts === 1 ? s : null;
    },
    15_000,
    'the host restarted',
  );
  assert.notEqual(status.pid, first);
  assert.ok(status.last_loss?.includes(String(first)));
  assert.deepEqual(
    hostEvents.map((e) => [e.connected, e.restarts]),
    [
      [false, 0],
      [true, 1],
    ],
    'the live events said it stopped, then that it is back',
  );
  // And it works: a new session runs.
  const again = await c.sessions.create({ cli_tool: 'shell', env: { HOME: dir } });
  await until(
    () => c.sessions.get(again.session_id)!.last_seq > 0,
    10_000,
    'a new session after the restart',
  );
});

test('autodev serve without --keep-sessions: SIGTERM ends every agent and the host', async (t) => {
  const dir = tempDir(t);
  const serve = await startServe(t, dir);
  const created = await serve.api('POST', '/cli/sessions', { cli_tool: 'shell', env: { HOME: dir } });
  const pid = created.body.session.pid as number;
  const host = hostPid(dir)!;
  assert.ok(pidAlive(pid) && pidAlive(host));
  serve.child.kill('SIGTERM');
  assert.equal(await serve.exited, 0);
  await until(() => !pidAlive(pid) && !pidAlive(host), 10_000, 'agent and host gone');
});

test('autodev serve --keep-sessions: SIGTERM leaves the agents running; `autodev sessions` lists them with no app', async (t) => {
  const dir = tempDir(t);
  const serve = await startServe(t, dir, ['--keep-sessions']);
  const created = await serve.api('POST', '/cli/sessions', { cli_tool: 'shell', env: { HOME: dir } });
  const id = created.body.session.session_id as string;
  const pid = created.body.session.pid as number;
  serve.child.kill('SIGTERM');
  assert.equal(await serve.exited, 0);
  assert.ok(pidAlive(pid), 'the agent runs on');
  const listed = runCli(['sessions', '--data-dir', dir, '--json'], cleanEnv(dir));
  assert.equal(listed.status, 0, listed.stderr);
  const sessions = JSON.parse(listed.stdout) as { session_id: string; pid: number; exited: boolean }[];
  assert.deepEqual(
    sessions.map((s) => [s.session_id, s.pid, s.exited]),
    [[id, pid, false]],
  );
  const text = runCli(['sessions', '--data-dir', dir], cleanEnv(dir));
  assert.match(text.stdout, new RegExp(`${id}\\s+pid ${pid}`));
  const stop = runCli(['sessions', '--data-dir', dir, '--restart-host'], cleanEnv(dir));
  assert.equal(stop.status, 0, stop.stderr);
  await until(() => !pidAlive(pid), 5000, 'the agent ended with its host');
});

test('a host of another protocol version is never killed silently: serve refuses and says how to choose', async (t) => {
  const dir = tempDir(t);
  // A stand-in for an older AutoDev's host: answers hello with protocol 99 and one live session.
  const { server } = await startForeignHost(t, dir);
  // (Not spawnSync: the stand-in host lives on this test's event loop.)
  const r = await runCliAsync(['serve', '--port', '0', '--data-dir', dir], cleanEnv(dir));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /protocol 99/);
  assert.match(r.stderr, /runs 1 session/);
  assert.match(r.stderr, /autodev sessions --restart-host/);
  assert.ok(server.listening, 'the old host was left alone');
});

test('the host socket: 0600 files, a wrong secret is refused, and the host holds none of the core secrets', async (t) => {
  const dir = tempDir(t);
  const canary = 'sk-ant-canary-host-0123456789abcdef';
  const env = { ...cleanEnv(dir), ANTHROPIC_API_KEY: canary };
  const c = await createCore(loadConfig({ dataDir: dir, env }), {
    env,
    tasks: false,
    logger: createLogger({ level: 'error', sink: () => {} }),
  });
  t.after(() => c.close());
  const paths = hostPaths(dir);
  const manifest = JSON.parse(readFileSync(paths.manifest, 'utf8'));
  assert.equal(statSync(paths.manifest).mode & 0o777, 0o600);
  assert.equal(statSync(paths.socket).mode & 0o777, 0o600);
  assert.equal(statSync(paths.dir).mode & 0o777, 0o700);
  await assert.rejects(
    PtyHostClient.connect(
      { ...manifest, secret: 'f'.repeat(64) },
      { logger: createLogger({ level: 'error' }), client: 'intruder' },
    ),
    /wrong secret|closed/,
  );
  const environ = readFileSync(`/proc/${manifest.pid}/environ`, 'utf8');
  assert.ok(!environ.includes(canary), 'the host process environment has no API key');
  // Each agent's environment comes with its spawn request, filtered as before: a shell gets no key.
  const s = await c.sessions.create({ cli_tool: 'shell', env: { HOME: dir, MARK: 'spawned-through-host' } });
  await until(() => c.sessions.get(s.session_id)!.pid, 5000, 'pid');
  // (Read once the agent has exec'd: before that /proc shows its launcher's environment.)
  const agentEnv = await until(
    () => {
      const text = readFileSync(`/proc/${c.sessions.get(s.session_id)!.pid}/environ`, 'utf8');
      return text.includes('MARK=spawned-through-host') ? text : null;
    },
    5000,
    "the agent's environment",
  );
  assert.ok(!agentEnv.includes(canary));
});

test('a clean close logs no warning: the host stopping is the shutdown it was asked for, and late usage scans do not run', async (t) => {
  const { core: c, logs } = await core(t, tempDir(t));
  const s = await c.sessions.create({ cli_tool: 'shell' });
  await c.sessions.terminate(s.session_id);
  // The exit schedules usage scans 300 ms and 2 s later; the core closes before they are due.
  await c.close();
  await new Promise((r) => setTimeout(r, 2300));
  const warnings = logs.filter((l) => /"level":"(warn|error)"/.test(l));
  assert.deepEqual(warnings, []);
});

test('AUTODEV_PTY_HOST_NODE_OPTIONS reaches the host as its NODE_OPTIONS, and the app’s own NODE_OPTIONS does not', async (t) => {
  const saved = { host: process.env.AUTODEV_PTY_HOST_NODE_OPTIONS, app: process.env.NODE_OPTIONS };
  process.env.AUTODEV_PTY_HOST_NODE_OPTIONS = '--no-warnings';
  process.env.NODE_OPTIONS = '--no-deprecation';
  t.after(() => {
    for (const [key, value] of [
      ['AUTODEV_PTY_HOST_NODE_OPTIONS', saved.host],
      ['NODE_OPTIONS', saved.app],
    ] as const)
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
  });
  const dir = tempDir(t);
  await core(t, dir);
  const { pid } = JSON.parse(readFileSync(hostPaths(dir).manifest, 'utf8')) as { pid: number };
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  assert.deepEqual(
    environ.filter((e) => e.startsWith('NODE_OPTIONS=')),
    ['NODE_OPTIONS=--no-warnings'],
  );
});
