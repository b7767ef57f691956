import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import BetterSqlite3 from 'better-sqlite3';
import { hostPid, pidAlive, stopHost } from '../pty-host/helpers.ts';
import { TestClient } from '../server/harness.ts';
import { agentEnv, makeRepo, until, writeProviders } from './helpers.ts';

// kill -9 of a real `autodev serve` with a session working in a worktree, then a restart on the same
// data dir: the worktree is found and listed with its unsaved work, never deleted. With PTYs in the
// app's own process the session died with it (`crashed`); with the PTY host process (the default) the
// agent lived on, is taken over, and its worktree is watched again.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'bin', 'autodev.mjs');
const run = promisify(execFile);

async function serve(dataDir: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`autodev serve did not start\n${stderr}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /AutoDev dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`autodev serve exited with ${code}\n${stderr}`));
    });
  });
  return { child, url };
}

interface Crashed {
  dataDir: string;
  env: NodeJS.ProcessEnv;
  call(url: string, method: string, route: string, body?: unknown): Promise<{ status: number; body: Json }>;
  token: string;
  session: { session_id: string; pid: number; worktree: { path: string; branch: string } };
  second: { child: ChildProcess; url: string };
}

// biome-ignore lint/suspicious/noExplicitAny: assertions check the shape
type Json = any;

/** serve → a session in a worktree with uncommitted work → kill -9 → serve again. */
async function crashAndRestart(
  t: { after(fn: () => unknown): void },
  repo: ReturnType<typeof makeRepo>,
  configExtra: string,
): Promise<Crashed> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-wt-crash-'));
  writeProviders(dataDir);
  if (configExtra)
    writeFileSync(
      path.join(dataDir, 'config.yaml'),
      `${readFileSync(path.join(dataDir, 'config.yaml'), 'utf8')}${configExtra}\n`,
    );
  const env = { ...agentEnv(dataDir), AUTODEV_LOG_LEVEL: 'info' };
  t.after(() => {
    stopHost(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const token = (
    await run(process.execPath, [CLI, 'token', '--scope', 'control', '--data-dir', dataDir], {
      cwd: ROOT,
      env,
    })
  ).stdout.trim();
  const call = async (url: string, method: string, route: string, body?: unknown) => {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const first = await serve(dataDir, env);
  let agentPid = 0;
  t.after(() => {
    first.child.kill('SIGKILL');
    try {
      if (agentPid) process.kill(-agentPid, 'SIGKILL');
    } catch {}
  });
  const created = await call(first.url, 'POST', '/cli/sessions', {
    cli_tool: 'editagent',
    name: 'doomed',
    working_directory: repo.dir,
    worktree: {},
  });
  assert.equal(created.status, 201);
  const session = created.body.session as Crashed['session'];
  agentPid = session.pid;
  // Work the agent did and never committed.
  writeFileSync(path.join(session.worktree.path, 'unsaved.txt'), 'do not lose me\n');
  // The session row is persisted in batches: wait until the database has it (with its worktree).
  await until('the session stored', () => {
    const db = new BetterSqlite3(path.join(dataDir, 'autodev.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db
        .prepare('SELECT worktree FROM cli_sessions WHERE session_id = ?')
        .get(session.session_id) as { worktree: string | null } | undefined;
      return row?.worktree ? JSON.parse(row.worktree).path === session.worktree.path : false;
    } finally {
      db.close();
    }
  });
  first.child.kill('SIGKILL');
  await new Promise<void>((resolve) =>
    first.child.exitCode !== null ? resolve() : first.child.once('exit', () => resolve()),
  );
  const second = await serve(dataDir, env);
  // SIGTERM: the second serve ends its sessions and the PTY host.
  t.after(() => second.child.kill('SIGTERM'));
  return { dataDir, env, call, token, session, second };
}

test('kill -9 of autodev serve with PTYs in its own process, restart: the worktree is listed as crashed, nothing deleted', async (t) => {
  const repo = makeRepo(t);
  const { call, session, second } = await crashAndRestart(t, repo, 'pty_host: in-process');
  const wt = session.worktree;
  const listed = await call(second.url, 'GET', '/worktrees');
  assert.equal(listed.status, 200);
  const entry = listed.body.worktrees.find((w: Json) => w.path === wt.path);
  assert.ok(entry, `listed: ${JSON.stringify(listed.body)}`);
  assert.equal(entry.state, 'crashed');
  assert.equal(entry.session_id, session.session_id);
  assert.equal(entry.branch, wt.branch);
  assert.equal(entry.uncommitted, true);
  assert.deepEqual(entry.uncommitted_files, ['unsaved.txt']);
  assert.equal(entry.merged, false);
  assert.ok(entry.disk_usage_bytes > 0);
  // Nothing deleted: the folder, the file and the branch are all there.
  assert.equal(readFileSync(path.join(wt.path, 'unsaved.txt'), 'utf8'), 'do not lose me\n');
  assert.equal(repo.git('branch', '--list', '--format=%(refname:short)', wt.branch), wt.branch);
  // The interrupted session says where it ran, and its changes can still be read and acted on.
  const stored = await call(second.url, 'GET', `/cli/sessions/${session.session_id}`);
  assert.equal(stored.body.state, 'terminated');
  assert.equal(stored.body.worktree.path, wt.path);
  const changes = await call(second.url, 'GET', `/cli/sessions/${session.session_id}/changes`);
  assert.equal(changes.status, 200);
  assert.deepEqual(
    changes.body.files.map((f: Json) => f.path),
    ['unsaved.txt'],
  );
  // Removal still refuses to lose the unsaved work.
  const refused = await call(
    second.url,
    'DELETE',
    `/cli/sessions/${session.session_id}?remove_worktree=true`,
  );
  assert.equal(refused.status, 409);
  assert.ok(existsSync(path.join(wt.path, 'unsaved.txt')));
});

test('kill -9 of autodev serve with the PTY host process: the agent lived on, its worktree is listed as active and watched again', async (t) => {
  const repo = makeRepo(t);
  const { call, session, second, dataDir, token } = await crashAndRestart(t, repo, '');
  const wt = session.worktree;
  const host = hostPid(dataDir);
  assert.ok(host && pidAlive(host), 'the PTY host process runs');
  assert.ok(pidAlive(session.pid), 'the agent outlived the app');
  const listed = await call(second.url, 'GET', '/worktrees');
  const entry = listed.body.worktrees.find((w: Json) => w.path === wt.path);
  assert.equal(entry.state, 'active');
  assert.deepEqual(entry.uncommitted_files, ['unsaved.txt']);
  const live = await call(second.url, 'GET', `/cli/sessions/${session.session_id}`);
  assert.equal(live.body.ended_at, null);
  assert.equal(live.body.worktree.path, wt.path);
  // The taken-over session's worktree is watched: a new file is announced on the events channel.
  const events = new TestClient(`${second.url.replace(/^http/, 'ws')}/cli/events/ws`, {
    origin: null,
    protocols: [`autodev.bearer.${token}`],
  });
  t.after(() => events.ws.close());
  await events.opened;
  await events.waitForType('auth');
  writeFileSync(path.join(wt.path, 'after-restart.txt'), 'still watched\n');
  await until('the change announced after the restart', () =>
    events.messages.find(
      (m) =>
        m.type === 'event' &&
        m.data.kind === 'worktree_changes' &&
        m.data.session_id === session.session_id &&
        m.data.summary.files === 2,
    ),
  );
});
