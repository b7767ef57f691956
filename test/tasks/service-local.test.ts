import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { Registry } from 'prom-client';
import { RateLimitError } from '../../src-main/core/tasks/errors.ts';
import { createTaskService, type TaskServiceOptions } from '../../src-main/core/tasks/task-service.ts';
import type { TaskInfo } from '../../src-shared/tasks.ts';
import {
  agentLog,
  fakeProvider,
  fakeRegistry,
  groupAlive,
  maxConcurrent,
  openTaskDb,
  tempEnv,
  waitFor,
} from './helpers.ts';

function setup(t: TestContext, options: Partial<TaskServiceOptions> = {}) {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  const service = createTaskService({
    db: opened.db,
    providers: fakeRegistry([
      fakeProvider('fake'),
      fakeProvider('fake2'),
      fakeProvider('ghost', { binary: path.join(env.dir, 'no-such-agent') }),
    ]),
    workerId: 'w-local',
    retryBaseMs: 50,
    killGraceMs: 500,
    env: {
      ...process.env,
      FAKE_AGENT_LOG: env.log,
      ANTHROPIC_API_KEY: 'sk-ant-canary-123456',
      OTHER_PROVIDER_KEY: 'x',
    },
    ...options,
  });
  t.after(async () => {
    await service.shutdown({ requeue: false });
    opened.close();
    env.cleanup();
  });
  return { env, db: opened.db, service };
}

async function run(
  service: ReturnType<typeof setup>['service'],
  prompt: string,
  extra: Record<string, unknown> = {},
) {
  const { tasks } = await service.submit({ cli_tool: 'fake', prompt, ...extra });
  return service.waitForFinal(tasks[0]!.task_id, 30_000);
}

test('a successful run records result, usage, cost, duration, history and outputs', async (t) => {
  const { service, env } = setup(t);
  const task = await run(service, 'ok hello', {
    working_directory: path.dirname(env.dbPath),
    metadata: { k: 1 },
  });
  assert.equal(task.state, 'passed');
  assert.equal(task.result_text, 'done hello');
  assert.deepEqual(task.usage, {
    input_tokens: 100,
    output_tokens: 20,
    cache_read_tokens: 5,
    cost_usd: 0.0123,
  });
  assert.equal(task.exit_code, 0);
  assert.equal(task.attempts, 1);
  assert.ok(task.duration_ms !== null && task.duration_ms >= 0);
  assert.deepEqual(task.metadata, { k: 1 });
  const detail = await service.getDetail(task.task_id);
  assert.deepEqual(
    detail.history.map((h) => h.state_to),
    ['queued', 'starting', 'running', 'completing', 'passed'],
  );
  assert.ok(detail.history.every((h) => h.reason.length > 0));
  const types = detail.outputs.filter((o) => o.kind === 'event').map((o) => o.event_type);
  assert.deepEqual(types, ['system', 'assistant', 'result']);
  assert.equal(detail.outputs.find((o) => o.kind === 'final')?.content, 'done hello');
});

test('an agent-reported failure is failed and never retried', async (t) => {
  const { service } = setup(t);
  const task = await run(service, 'fail', { max_retries: 3 });
  assert.equal(task.state, 'failed');
  assert.equal(task.attempts, 1);
  assert.equal(task.exit_code, 1);
  assert.equal(task.result_text, 'the tests still fail');
});

test('malformed and unknown lines are kept raw and never break the parse', async (t) => {
  const { service } = setup(t);
  const task = await run(service, 'malformed');
  assert.equal(task.state, 'passed');
  assert.equal(task.result_text, 'survived the noise');
  const { outputs } = await service.getDetail(task.task_id);
  const raw = outputs.filter((o) => o.kind === 'raw').map((o) => o.content);
  assert.ok(raw.includes('this is not json'));
  assert.ok(raw.includes('[1, 2, 3]'));
  assert.ok(raw.includes('{"type":"trailing"'), 'the last line without newline is kept');
  assert.ok(outputs.some((o) => o.event_type === 'mystery_event'));
});

test('a missing binary is a clear error and not retried', async (t) => {
  const { service, env } = setup(t);
  const { tasks } = await service.submit({ cli_tool: 'ghost', prompt: 'ok' });
  const task = await service.waitForFinal(tasks[0]!.task_id, 20_000);
  assert.equal(task.state, 'error');
  assert.equal(task.error, `${path.join(env.dir, 'no-such-agent')} is not installed or not on PATH`);
  assert.equal(task.attempts, 1);
});

test('a crash by signal is retried with backoff; retries stop at max_retries', async (t) => {
  const { service, env } = setup(t);
  const marker = path.join(env.dir, 'crashed-once');
  const recovered = await run(service, `crash-once:${marker}`, { max_retries: 2 });
  assert.equal(recovered.state, 'passed');
  assert.equal(recovered.attempts, 2);
  const history = (await service.getDetail(recovered.task_id)).history;
  assert.ok(
    history.some(
      (h) => h.state_from === 'completing' && h.state_to === 'queued' && /retry 1\/2/.test(h.reason),
    ),
  );

  const doomed = await run(service, 'crash', { max_retries: 2 });
  assert.equal(doomed.state, 'error');
  assert.equal(doomed.attempts, 3);
  assert.match(doomed.error ?? '', /killed by SIGKILL/);

  const silent = await run(service, 'noresult', { max_retries: 1 });
  assert.equal(silent.state, 'error');
  assert.equal(silent.attempts, 2);
  assert.match(silent.error ?? '', /exited with code 3 without a result.*something broke/);
});

test('timeout kills the whole process group (SIGTERM ignored → SIGKILL) and records timeout', async (t) => {
  const { service, env } = setup(t);
  const pids = path.join(env.dir, 'hang-pids');
  const { tasks } = await service.submit({ cli_tool: 'fake', prompt: `hang:${pids}`, timeout_s: 1 });
  const [leader, grandchild] = (await waitFor(() => readFileSyncSafe(pids), 'hang pids'))
    .trim()
    .split(' ')
    .map(Number);
  const task = await service.waitForFinal(tasks[0]!.task_id, 30_000);
  assert.equal(task.state, 'timeout');
  await waitFor(() => !groupAlive(leader!), 'process group gone');
  assert.throws(() => process.kill(grandchild!, 0), /ESRCH/);
});

test('cancel while running kills the process group and ends cancelled', async (t) => {
  const { service, env } = setup(t);
  const pids = path.join(env.dir, 'hang-pids');
  const { tasks } = await service.submit({ cli_tool: 'fake', prompt: `hang:${pids}` });
  const id = tasks[0]!.task_id;
  const [leader] = (await waitFor(() => readFileSyncSafe(pids), 'hang pids')).trim().split(' ').map(Number);
  await waitFor(async () => (await service.get(id)).state === 'running', 'running');
  const cancelled = await service.cancel(id);
  assert.equal(cancelled.state, 'cancelled');
  assert.equal(groupAlive(leader!), false);
  await assert.rejects(service.cancel(id), /cannot cancel a task in state cancelled/);
});

test('pause stops the running group (SIGSTOP) and resume continues it to the end', async (t) => {
  const { service, env } = setup(t);
  const { tasks } = await service.submit({ cli_tool: 'fake', prompt: 'tick:1500' });
  const id = tasks[0]!.task_id;
  const running = await waitFor(async () => {
    const d = await service.getDetail(id);
    return d.task.state === 'running' && d.outputs.length > 2 && d;
  }, 'ticking');
  assert.ok(running);
  const paused = await service.pause(id);
  assert.equal(paused.state, 'paused');
  const pid = agentLog(env.log).find((e) => e.what === 'start')!.pid;
  const stat = await waitFor(() => procState(pid), 'proc state');
  assert.equal(stat, 'T', 'the agent is stopped');
  const resumed = await service.resume(id);
  assert.equal(resumed.state, 'running');
  const done = await service.waitForFinal(id, 30_000);
  assert.equal(done.state, 'passed');
  const history = (await service.getDetail(id)).history.map((h) => h.state_to);
  assert.deepEqual(history, ['queued', 'starting', 'running', 'paused', 'running', 'completing', 'passed']);
});

test('a queued task can be held (pause), resumed and cancelled', async (t) => {
  const { service } = setup(t, { limits: { global_concurrency: 1 } });
  const { tasks } = await service.submit([
    { cli_tool: 'fake', prompt: 'ok:400 blocker' },
    { cli_tool: 'fake', prompt: 'ok held' },
    { cli_tool: 'fake', prompt: 'ok doomed' },
  ]);
  const [blocker, held, doomed] = tasks.map((x) => x.task_id) as [string, string, string];
  assert.equal((await service.pause(held)).state, 'paused');
  assert.equal((await service.cancel(doomed)).state, 'cancelled');
  assert.equal((await service.waitForFinal(blocker, 30_000)).state, 'passed');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await service.get(held)).state, 'paused', 'a held task is not claimed');
  assert.equal((await service.resume(held)).state, 'queued');
  assert.equal((await service.waitForFinal(held, 30_000)).state, 'passed');
});

test('priority first, FIFO within a priority, with concurrency 1', async (t) => {
  const { service, env } = setup(t, { limits: { global_concurrency: 1 } });
  const { tasks } = await service.submit({ cli_tool: 'fake', prompt: 'ok:500 blocker' });
  await waitFor(() => agentLog(env.log).some((e) => e.tag === 'blocker'), 'blocker started');
  const order: [number, string][] = [
    [10, 'low-a'],
    [90, 'high-a'],
    [50, 'mid-a'],
    [90, 'high-b'],
    [10, 'low-b'],
    [50, 'mid-b'],
  ];
  for (const [priority, tag] of order)
    await service.submit({ cli_tool: 'fake', prompt: `ok ${tag}`, priority });
  const all = (await service.list({ limit: 50 })).items;
  await Promise.all(all.map((x) => service.waitForFinal(x.task_id, 60_000)));
  assert.ok(tasks[0]);
  const started = agentLog(env.log)
    .filter((e) => e.what === 'start')
    .map((e) => e.tag);
  assert.deepEqual(started, ['blocker', 'high-a', 'high-b', 'mid-a', 'mid-b', 'low-a', 'low-b']);
});

test('global and per-provider concurrency limits are never exceeded', async (t) => {
  const { service, env } = setup(t, {
    limits: { global_concurrency: 3, per_provider: { fake: 1 }, per_user_per_hour: 100 },
  });
  let running = 0;
  let maxRunning = 0;
  const active = new Set<string>();
  service.onDidChangeTask((task: TaskInfo) => {
    if (['starting', 'running', 'paused', 'completing'].includes(task.state)) active.add(task.task_id);
    else active.delete(task.task_id);
    running = active.size;
    maxRunning = Math.max(maxRunning, running);
  });
  const requests = [];
  for (let i = 0; i < 6; i++) {
    requests.push({ cli_tool: 'fake', prompt: `ok:150 a${i}` });
    requests.push({ cli_tool: 'fake2', prompt: `ok:150 b${i}` });
  }
  const { tasks } = await service.submit(requests);
  const finals = await Promise.all(tasks.map((x) => service.waitForFinal(x.task_id, 60_000)));
  assert.ok(finals.every((f) => f.state === 'passed'));
  assert.ok(maxRunning <= 3, `service had ${maxRunning} running`);
  assert.ok(maxRunning >= 2, 'tasks did run in parallel');
  assert.ok(maxConcurrent(env.log) <= 3);
  assert.equal(maxConcurrent(env.log, 'a'), 1, 'per-provider limit 1 for fake');
});

test('per-user rate limit: the 11th submission within the hour is refused with retry_after', async (t) => {
  const { service } = setup(t);
  const ten = Array.from({ length: 10 }, (_, i) => ({
    cli_tool: 'fake',
    prompt: `ok r${i}`,
    user_id: 'alice',
  }));
  await service.submit(ten.slice(0, 4));
  await service.submit(ten.slice(4));
  const error = await service.submit({ cli_tool: 'fake', prompt: 'ok r10', user_id: 'alice' }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error instanceof RateLimitError, String(error));
  assert.equal(error.status, 429);
  assert.ok(error.retry_after_s > 3500 && error.retry_after_s <= 3600, String(error.retry_after_s));
  // Another user is not affected; a batch that would overflow is refused whole.
  await service.submit({ cli_tool: 'fake', prompt: 'ok bob', user_id: 'bob' });
  const batch = Array.from({ length: 10 }, () => ({ cli_tool: 'fake', prompt: 'ok', user_id: 'bob' }));
  await assert.rejects(service.submit(batch), RateLimitError);
  assert.equal((await service.list({ user_id: 'bob' })).total, 1);
});

test('sync mode waits for the result; past the limit it answers with the task still running', async (t) => {
  const { service } = setup(t);
  const sync = await service.submit({ cli_tool: 'fake', prompt: 'ok sync', mode: 'sync' });
  assert.equal(sync.completed, true);
  assert.equal(sync.tasks[0]!.state, 'passed');
  assert.equal(sync.tasks[0]!.result_text, 'done sync');
  const slow = await service.submit({ cli_tool: 'fake', prompt: 'tick:3000', mode: 'sync' }, { waitMs: 300 });
  assert.equal(slow.completed, false);
  assert.ok(!['passed', 'failed'].includes(slow.tasks[0]!.state));
  const async = await service.submit({ cli_tool: 'fake', prompt: 'ok async' });
  assert.equal(async.completed, false);
  assert.equal(async.tasks[0]!.state, 'queued');
});

test('batch submission queues every prompt and emits progress events', async (t) => {
  const { service } = setup(t);
  const seen = new Map<string, string[]>();
  service.onDidChangeTask((task) => seen.set(task.task_id, [...(seen.get(task.task_id) ?? []), task.state]));
  const { tasks } = await service.submit(
    Array.from({ length: 5 }, (_, i) => ({ cli_tool: i % 2 ? 'fake' : 'fake2', prompt: `ok batch${i}` })),
  );
  assert.equal(tasks.length, 5);
  const finals = await Promise.all(tasks.map((x) => service.waitForFinal(x.task_id, 60_000)));
  assert.deepEqual(
    finals.map((f) => f.result_text),
    tasks.map((_, i) => `done batch${i}`),
  );
  for (const x of tasks)
    assert.deepEqual(seen.get(x.task_id), ['queued', 'starting', 'running', 'completing', 'passed']);
});

test('only the provider env keys reach the agent; secrets in output are redacted', async (t) => {
  const { service } = setup(t);
  const task = await run(service, 'secret');
  assert.equal(task.result_text, 'env has ANTHROPIC_API_KEY=no OTHER=no');
  const { outputs } = await service.getDetail(task.task_id);
  const assistant = outputs.find((o) => o.event_type === 'assistant')!;
  assert.doesNotMatch(assistant.content, /abcdefghijklmnop/);
  assert.match(assistant.content, /REDACTED/);
});

test('metrics and prom-client collectors reflect finished tasks', async (t) => {
  const { service } = setup(t);
  await run(service, 'ok m1');
  await run(service, 'fail');
  const m = service.getMetrics();
  assert.equal(m.counts.passed, 1);
  assert.equal(m.counts.failed, 1);
  assert.equal(m.success_rate, 0.5);
  assert.equal(m.input_tokens, 200);
  assert.ok(Math.abs(m.cost_usd - 0.0246) < 1e-9);
  const fake = m.providers.find((p) => p.cli_tool === 'fake')!;
  assert.equal(fake.duration_ms.count, 2);
  const registry = new Registry();
  const unregister = service.registerCollectors(registry);
  const text = await registry.metrics();
  assert.match(text, /autodev_tasks\{cli_tool="fake",state="passed"\} 1/);
  assert.match(text, /autodev_task_cost_usd_total\{cli_tool="fake"\} 0\.0246/);
  assert.match(text, /autodev_task_duration_ms\{cli_tool="fake",quantile="0.95"\}/);
  unregister();
  assert.equal(await registry.getSingleMetricAsString('autodev_tasks').catch(() => 'gone'), 'gone');
});

function readFileSyncSafe(file: string): string | null {
  try {
    const text = readFileSync(file, 'utf8');
    return text.includes('\n') ? text : null;
  } catch {
    return null;
  }
}

function procState(pid: number | null): string | null {
  if (pid === null) return null;
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0]!;
  } catch {
    return null;
  }
}
