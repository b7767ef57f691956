import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { QueueUnavailableError } from '../../src-main/core/tasks/errors.ts';
import { createTaskService, type TaskServiceOptions } from '../../src-main/core/tasks/task-service.ts';
import { FINAL_TASK_STATES, type TaskInfo } from '../../src-shared/tasks.ts';
import { freePort, type RedisServer, startRedisServer } from '../helpers/redis-server.ts';
import { agentLog, fakeProvider, fakeRegistry, groupAlive, openTaskDb, tempEnv, waitFor } from './helpers.ts';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'redis-worker.ts');

async function redis(t: TestContext): Promise<RedisServer> {
  const server = await startRedisServer();
  t.after(() => server.close());
  return server;
}

/** An in-process service on the shared queue (a submitter when concurrency is 0). */
function service(t: TestContext, url: string, workerId: string, extra: Partial<TaskServiceOptions> = {}) {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  const svc = createTaskService({
    db: opened.db,
    providers: fakeRegistry([fakeProvider('fake')]),
    workerId,
    redis: { url, lease_ms: 1500, poll_ms: 50, reap_ms: 200 },
    limits: { global_concurrency: 0, per_user_per_hour: 100_000 },
    env: { ...process.env, FAKE_AGENT_LOG: env.log },
    killGraceMs: 500,
    ...extra,
  });
  t.after(async () => {
    await svc.shutdown({ requeue: false });
    opened.close();
    env.cleanup();
  });
  return { svc, env };
}

interface Worker {
  proc: ChildProcess;
  id: string;
  exited: Promise<void>;
}

async function startWorker(
  t: TestContext,
  url: string,
  dir: string,
  id: string,
  log: string,
  leaseMs: number,
  concurrency = 2,
): Promise<Worker> {
  const proc = spawn(
    process.execPath,
    [WORKER, url, path.join(dir, `${id}.db`), id, log, String(leaseMs), String(concurrency)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d) => {
    out += d;
  });
  proc.stderr!.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  t.after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 8000);
      await exited;
      clearTimeout(timer);
    }
  });
  await waitFor(() => out.includes('ready') || proc.exitCode !== null, `worker ${id} ready`, 30_000);
  assert.ok(out.includes('ready'), `worker ${id} failed to start: ${err}`);
  return { proc, id, exited };
}

test('two worker processes on one Redis drain 100 tasks, each exactly once', async (t) => {
  const server = await redis(t);
  const { svc: submitter, env } = service(t, server.url, 'submitter');
  const a = await startWorker(t, server.url, env.dir, 'worker-a', env.log, 3000);
  const b = await startWorker(t, server.url, env.dir, 'worker-b', env.log, 3000);
  const requests = Array.from({ length: 100 }, (_, i) => ({
    cli_tool: 'fake',
    prompt: `ok:${i % 5 === 0 ? 100 : 10} job-${i}`,
    priority: i % 3 === 0 ? 80 : 50,
  }));
  const { tasks } = await submitter.submit(requests);
  assert.equal(tasks.length, 100);
  const finals = await waitFor(
    async () => {
      const all = await Promise.all(tasks.map((x) => submitter.get(x.task_id)));
      return all.every((x) => FINAL_TASK_STATES.has(x.state)) && all;
    },
    '100 tasks final',
    120_000,
  );
  assert.ok(
    finals.every((x) => x.state === 'passed'),
    JSON.stringify(finals.filter((x) => x.state !== 'passed')),
  );
  const starts = agentLog(env.log).filter((e) => e.what === 'start');
  const perTag = new Map<string, number>();
  for (const s of starts) perTag.set(s.tag, (perTag.get(s.tag) ?? 0) + 1);
  assert.equal(perTag.size, 100, 'every task ran');
  assert.deepEqual(
    [...perTag.entries()].filter(([, n]) => n !== 1),
    [],
    'no task ran twice',
  );
  const byWorker = new Map<string, number>();
  for (const f of finals) byWorker.set(f.worker_id ?? '?', (byWorker.get(f.worker_id ?? '?') ?? 0) + 1);
  assert.deepEqual([...byWorker.keys()].sort(), [a.id, b.id], `both workers took part: ${[...byWorker]}`);
  assert.ok(finals.every((f) => f.attempts === 1));
  // The shared list sees everything; history travelled with the task.
  assert.equal((await submitter.list({ state: 'passed', limit: 500 })).total, 100);
  const detail = await submitter.getDetail(tasks[0]!.task_id);
  assert.deepEqual(
    detail.history.map((h) => h.state_to),
    ['queued', 'starting', 'running', 'completing', 'passed'],
  );
  t.diagnostic(`split: ${JSON.stringify(Object.fromEntries(byWorker))}`);
});

test('a worker SIGKILLed mid-task loses its lease; the other worker completes the task', async (t) => {
  const server = await redis(t);
  const { svc: submitter, env } = service(t, server.url, 'submitter');
  const leaseMs = 1500;
  const a = await startWorker(t, server.url, env.dir, 'worker-a', env.log, leaseMs);
  const { tasks } = await submitter.submit({ cli_tool: 'fake', prompt: 'ok:1500 victim' });
  const id = tasks[0]!.task_id;
  const first = await waitFor(
    () => agentLog(env.log).find((e) => e.what === 'start'),
    'first attempt started',
  );
  await waitFor(async () => (await submitter.get(id)).state === 'running', 'running on a');
  assert.equal((await submitter.get(id)).worker_id, 'worker-a');
  a.proc.kill('SIGKILL');
  await a.exited;
  // The agent was detached from the dead worker; a dead machine takes it along (recovery kills such
  // orphans when that instance restarts).
  process.kill(-first.pid, 'SIGKILL');
  await waitFor(() => !groupAlive(first.pid), 'orphan gone');

  await startWorker(t, server.url, env.dir, 'worker-b', env.log, leaseMs);
  const done = await submitter.waitForFinal(id, 60_000);
  assert.equal(done.state, 'passed');
  assert.equal(done.worker_id, 'worker-b');
  assert.equal(done.attempts, 2);
  const history = (await submitter.getDetail(id)).history;
  assert.ok(
    history.some((h) => /lease of worker worker-a expired/.test(h.reason)),
    JSON.stringify(history),
  );
  assert.equal(agentLog(env.log).filter((e) => e.what === 'start').length, 2);
});

test('controls across instances: cancel and pause/resume a task running on another worker', async (t) => {
  const server = await redis(t);
  const { svc: submitter } = service(t, server.url, 'submitter');
  const { svc: worker } = service(t, server.url, 'worker-in-process', {
    limits: { global_concurrency: 2, per_user_per_hour: 1000 },
  });
  const { tasks } = await submitter.submit([
    { cli_tool: 'fake', prompt: 'tick:20000 c1' },
    { cli_tool: 'fake', prompt: 'tick:6000 c2' },
  ]);
  const [c1, c2] = tasks.map((x) => x.task_id) as [string, string];
  await waitFor(async () => (await submitter.get(c1)).state === 'running', 'c1 running');
  await waitFor(async () => (await submitter.get(c2)).state === 'running', 'c2 running');
  const cancelled = await submitter.cancel(c1);
  assert.equal(cancelled.state, 'cancelled');
  const paused = await submitter.pause(c2);
  assert.equal(paused.state, 'paused');
  const resumed = await submitter.resume(c2);
  assert.equal(resumed.state, 'running');
  assert.equal((await submitter.waitForFinal(c2, 30_000)).state, 'passed');
  void worker;
});

test('queued tasks in Redis are held, released and cancelled atomically, with history', async (t) => {
  const server = await redis(t);
  const { svc: submitter } = service(t, server.url, 'submitter-only');
  const { tasks } = await submitter.submit({ cli_tool: 'fake', prompt: 'ok nobody-runs-me' });
  const id = tasks[0]!.task_id;
  const held = await submitter.pause(id);
  assert.equal(held.state, 'paused');
  assert.equal(held.state_reason, 'paused by user', 'the shared copy carries the reason too');
  await assert.rejects(submitter.pause(id), /cannot pause a task in state paused/);
  assert.equal((await submitter.resume(id)).state, 'queued');
  const cancelled = await submitter.cancel(id);
  assert.equal(cancelled.state, 'cancelled');
  assert.equal(cancelled.state_reason, 'cancelled by user');
  await assert.rejects(submitter.resume(id), /cannot resume a task in state cancelled/);
  const history = (await submitter.getDetail(id)).history.map((h) => h.state_to);
  assert.deepEqual(history, ['queued', 'paused', 'queued', 'cancelled']);
  assert.equal((await submitter.list({ state: 'cancelled' })).total, 1);
});

test('Redis down: submit fails fast with a clear error, a running task still finishes, nothing crashes', async (t) => {
  const server = await redis(t);
  const { svc } = service(t, server.url, 'solo', {
    limits: { global_concurrency: 1, per_user_per_hour: 1000 },
  });
  const { tasks } = await svc.submit({ cli_tool: 'fake', prompt: 'tick:1500 survivor' });
  const id = tasks[0]!.task_id;
  await waitFor(async () => (await svc.get(id)).state === 'running', 'running');
  await server.stop();
  const error = await svc.submit({ cli_tool: 'fake', prompt: 'ok' }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof QueueUnavailableError, String(error));
  assert.equal(error.status, 503);
  // The run goes on; this instance's own record (SQLite) reaches the final state.
  const local = await waitFor(async () => {
    const x: TaskInfo = await svc.get(id);
    return FINAL_TASK_STATES.has(x.state) && x;
  }, 'local final state');
  assert.equal(local.state, 'passed');
  await server.start();
  // Back up: submissions work again once the client has reconnected.
  const again = await waitFor(
    () =>
      svc.submit({ cli_tool: 'fake', prompt: 'ok back' }).then(
        (r) => r.tasks[0],
        () => null,
      ),
    'submit after reconnect',
    40_000,
  );
  assert.equal((await svc.waitForFinal(again.task_id, 30_000)).state, 'passed');
});

test('Redis absent at start: one logged error, clear submit errors, working once it appears', async (t) => {
  const port = await freePort();
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  const errors: string[] = [];
  const svc = createTaskService({
    db: opened.db,
    providers: fakeRegistry([fakeProvider('fake')]),
    workerId: 'late',
    logger: { debug() {}, info() {}, warn() {}, error: (m: string) => errors.push(m) },
    redis: { url: `redis://127.0.0.1:${port}`, poll_ms: 50 },
    limits: { global_concurrency: 1 },
    env: { ...process.env, FAKE_AGENT_LOG: env.log },
  });
  let server: RedisServer | null = null;
  t.after(async () => {
    await svc.shutdown({ requeue: false });
    opened.close();
    env.cleanup();
    await server?.close();
  });
  await assert.rejects(svc.submit({ cli_tool: 'fake', prompt: 'ok' }), QueueUnavailableError);
  await assert.rejects(svc.submit({ cli_tool: 'fake', prompt: 'ok' }), /task queue unavailable/);
  await new Promise((r) => setTimeout(r, 1500)); // several reconnect attempts happen meanwhile
  assert.equal(errors.length, 1, errors.join('\n'));
  server = await startRedisServer({ port });
  const result = await waitFor(
    () => svc.submit({ cli_tool: 'fake', prompt: 'ok late', mode: 'sync' }).catch(() => null),
    'submit once redis is up',
    40_000,
  );
  assert.equal(result.tasks[0]!.state, 'passed');
});
