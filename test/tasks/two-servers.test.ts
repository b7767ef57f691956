// Two real `autodev serve` processes (separate data dirs, one JWT secret) share one real redis-server:
// a batch submitted over REST to the first is drained by both, every task runs exactly once, and the
// second server answers for tasks it did not run.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { TaskInfo } from '../../src-shared/tasks.ts';
import { startRedisServer } from '../helpers/redis-server.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'bin', 'autodev.mjs');
const AGENT = path.join(ROOT, 'test', 'fixtures', 'oneshot', 'fake-agent.mjs');
const TASKS = 40;

function serve(dataDir: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', dataDir], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-10_000);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start\n${stderr}`)), 60_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /AutoDev dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}\n${stderr}`));
    });
  });
}

async function api(url: string, token: string, method: string, route: string, body?: unknown) {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

test('two autodev servers on one Redis drain a REST batch: each task runs exactly once', async (t) => {
  const redis = await startRedisServer();
  t.after(() => redis.close());
  const agentLog = path.join(mkdtempSync(path.join(os.tmpdir(), 'autodev-2srv-log-')), 'agent.log');
  writeFileSync(agentLog, '');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    JWT_SECRET: 'two-servers-shared-signing-secret-0123456789',
    FAKE_AGENT_LOG: agentLog,
  };
  const servers: { child: ChildProcess; url: string; dataDir: string }[] = [];
  t.after(async () => {
    for (const s of servers) {
      if (s.child.exitCode === null) {
        const exited = new Promise((r) => s.child.once('exit', r));
        s.child.kill('SIGTERM');
        await exited;
      }
      rmSync(s.dataDir, { recursive: true, force: true });
    }
    rmSync(path.dirname(agentLog), { recursive: true, force: true });
  });
  for (let i = 0; i < 2; i++) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), `autodev-2srv-${i}-`));
    const providersFile = path.join(dataDir, 'providers.yaml');
    writeFileSync(
      providersFile,
      `providers:
  oneshot:
    binary: ${JSON.stringify(process.execPath)}
    env_keys: [FAKE_AGENT_LOG]
    one_shot:
      args: [${JSON.stringify(AGENT)}]
      prompt: { via: arg }
      output: stream-json
      full_access_args: []
`,
    );
    writeFileSync(
      path.join(dataDir, 'config.yaml'),
      `providers_file: ${JSON.stringify(providersFile)}
redis_url: ${redis.url}
tasks: { global_concurrency: 2, per_user_per_hour: 100000 }
`,
    );
    servers.push({ ...(await serve(dataDir, { ...env, HOME: dataDir })), dataDir });
  }
  const [a, b] = servers as [(typeof servers)[0], (typeof servers)[0]];
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [CLI, 'token', '--scope', 'control', '--data-dir', a.dataDir],
    { cwd: ROOT, env },
  );
  const token = stdout.trim();

  const batch = Array.from({ length: TASKS }, (_, i) => ({ cli_tool: 'oneshot', prompt: `ok:150 t${i}` }));
  const submitted = await api(a.url, token, 'POST', '/tasks', { tasks: batch, mode: 'async' });
  assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
  const ids = (submitted.body['tasks'] as TaskInfo[]).map((task) => task.task_id);
  assert.equal(ids.length, TASKS);

  // Ask the OTHER server: with Redis the task state is shared, whoever ran it.
  const deadline = Date.now() + 120_000;
  let finals: TaskInfo[] = [];
  for (;;) {
    finals = await Promise.all(
      ids.map(async (id) => (await api(b.url, token, 'GET', `/tasks/${id}`)).body['task'] as TaskInfo),
    );
    if (finals.every((task) => task?.state === 'passed')) break;
    if (Date.now() > deadline) {
      const states = finals.map((task) => task?.state).join(',');
      assert.fail(`tasks not all passed in time: ${states}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }

  const starts = readFileSync(agentLog, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('start '))
    .map((line) => line.split(' ')[2]);
  const perTag = new Map<string, number>();
  for (const tag of starts) perTag.set(tag ?? '', (perTag.get(tag ?? '') ?? 0) + 1);
  assert.equal(perTag.size, TASKS, 'every task started');
  assert.deepEqual([...new Set(perTag.values())], [1], 'no task ran twice');
  const workers = new Set(finals.map((task) => task.worker_id));
  assert.equal(workers.size, 2, `both servers ran tasks: ${[...workers].join(', ')}`);
  assert.ok(finals.every((task) => task.result_text?.startsWith('done t')));
});
