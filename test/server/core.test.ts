import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadConfig } from '../../src-main/core/config.ts';
import { createCore } from '../../src-main/core/core.ts';
import { createLogger } from '../../src-main/core/log/logger.ts';
import { startTestServer, until } from './harness.ts';

/**
 * Clean-ups that run in reverse order of registration, like `defer` (node:test runs `t.after` hooks in
 * registration order: a data dir registered first would be deleted under a core still running).
 */
function deferrer(t: { after(fn: () => Promise<void>): void }) {
  const fns: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of fns.reverse()) await fn();
  });
  return (fn: () => unknown) => void fns.push(fn);
}

test('createCore wires the task runner: /tasks routes mounted, task collectors on /metrics, recovery report', async (t) => {
  const ts = await startTestServer(t, { coreOptions: { tasks: true } });
  assert.ok(ts.core.tasks, 'task service created');
  const list = await ts.api('GET', '/tasks');
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.body.items, []);
  const read = await ts.token('read');
  assert.equal(
    (await ts.api('POST', '/tasks', { token: read, body: { cli_tool: 'shell', prompt: 'x' } })).status,
    403,
  );
  const metrics = await ts.api('GET', '/metrics');
  assert.match(metrics.text, /task/i);
  assert.ok(ts.core.recovery, 'recovery ran at start');
  assert.equal(ts.core.recovery!.sessions_interrupted, 0);
});

test('recovery: sessions live when a previous run died are reported interrupted, leftovers killed', async (t) => {
  const defer = deferrer(t);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-core-'));
  defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { PATH: process.env['PATH'], HOME: dataDir, SHELL: '/bin/bash', LANG: 'C.UTF-8' };
  const config = loadConfig({ dataDir, env });
  const quiet = createLogger({ level: 'error', sink: () => {} });
  // First run: a live session, then the process "dies" (no shutdown; data flushed as a crash would leave it).
  // PTYs in this process: its death is theirs (with the PTY host they live on: test/pty-host/).
  const first = await createCore(config, {
    logger: quiet,
    env,
    tasks: false,
    ptyHost: 'in-process',
    manager: { loginPath: async () => env.PATH ?? '' },
  });
  defer(() => first.close());
  const session = await first.sessions.create({
    cli_tool: 'shell',
    mode: 'interactive',
    full_access: false,
    user_id: 'local',
    metadata: {},
    cols: 80,
    rows: 24,
    env: {},
  });
  await until(() => first.sessions.get(session.session_id)!.pid, 20_000, 'pid');
  const pid = first.sessions.get(session.session_id)!.pid!;
  first.persistence!.flush();

  // Second run on the same data dir, while the first one's agent is still alive.
  const second = await createCore(config, {
    logger: quiet,
    env,
    tasks: false,
    ptyHost: 'in-process',
    manager: { loginPath: async () => env.PATH ?? '' },
  });
  defer(() => second.close());
  assert.ok(second.recovery!.interrupted_session_ids.includes(session.session_id));
  await until(
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    20_000,
    'leftover agent killed',
  );
  const report = second.recoveryReport(session.session_id) as { interrupted: boolean } | null;
  assert.equal(report?.interrupted, true);
  const stored = second.store!.getSession(session.session_id)!;
  assert.equal(stored.state, 'terminated');
  assert.equal(stored.state_reason.source, 'recovery');
});

test('task limits come from the config file; a misspelt task key is an error naming it', async (t) => {
  const defer = deferrer(t);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-core-'));
  defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const env = { HOME: dataDir, PATH: process.env['PATH'] ?? '' };
  writeFileSync(
    path.join(dataDir, 'config.yaml'),
    'tasks: { per_user_per_hour: 2, global_concurrency: 3, per_provider: { claude: 1 } }\n',
  );
  const core = await createCore(loadConfig({ dataDir, env }), {
    env,
    logger: createLogger({ level: 'error', sink: () => {} }),
  });
  defer(() => core.close());
  assert.equal(core.tasks?.limits.per_user_per_hour, 2);
  assert.equal(core.tasks?.limits.global_concurrency, 3);
  assert.deepEqual(core.tasks?.limits.per_provider, { claude: 1 });
  writeFileSync(path.join(dataDir, 'config.yaml'), 'tasks: { per_user_per_hr: 2 }\n');
  assert.throws(() => loadConfig({ dataDir, env }), /per_user_per_hr/);
});

test("a user-configured provider's key values are redacted like the bundled providers' keys", async (t) => {
  const defer = deferrer(t);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-core-'));
  defer(() => rmSync(dataDir, { recursive: true, force: true }));
  const secret = 'mytool-secret-value-0123456789';
  const env = { HOME: dataDir, PATH: process.env['PATH'] ?? '', MY_TOOL_TOKEN: secret };
  const providersFile = path.join(dataDir, 'providers.yaml');
  writeFileSync(
    providersFile,
    'providers:\n  mytool:\n    binary: /bin/cat\n    env_keys: [MY_TOOL_TOKEN]\n',
  );
  writeFileSync(path.join(dataDir, 'config.yaml'), `providers_file: ${providersFile}\n`);
  const core = await createCore(loadConfig({ dataDir, env }), {
    env,
    logger: createLogger({ level: 'error', sink: () => {} }),
  });
  defer(() => core.close());
  assert.ok(core.providers.get('mytool'), 'the user provider is loaded');
  const out = core.redactor.redact(`token is ${secret}.`);
  assert.ok(!out.includes(secret), out);
});
