import assert from 'node:assert/strict';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { defaultProviders } from '../../src-main/core/providers/defaults.ts';
import type { ApiFallbackSpec, ProviderDefinition } from '../../src-main/core/providers/types.ts';
import { TaskConflictError } from '../../src-main/core/tasks/errors.ts';
import { createTaskService, type TaskServiceOptions } from '../../src-main/core/tasks/task-service.ts';
import { FINAL_TASK_STATES } from '../../src-shared/tasks.ts';
import { startRedisServer } from '../helpers/redis-server.ts';
import { fakeProvider, fakeRegistry, openTaskDb, tempEnv, waitFor } from './helpers.ts';
import { type MockReply, startMockMessagesApi } from './mock-messages-api.ts';

const KEY = 'sk-ant-api03-mock-key-for-tests-0123456789';

/** The bundled claude definition (its api_fallback data as shipped), with a binary that is not there. */
function claudeWithoutCli(dir: string): ProviderDefinition {
  const claude = defaultProviders().find((p) => p.id === 'claude')!;
  return { ...claude, binary: path.join(dir, 'no-claude-here', 'claude') };
}

async function setup(t: TestContext, script: MockReply[], options: Partial<TaskServiceOptions> = {}) {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  const mock = await startMockMessagesApi(script);
  const claude = claudeWithoutCli(env.dir);
  const service = createTaskService({
    db: opened.db,
    providers: fakeRegistry([claude]),
    workerId: 'w-api',
    retryBaseMs: 50,
    env: { ...process.env, HOME: env.dir, ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: mock.url },
    ...options,
  });
  t.after(async () => {
    await service.shutdown({ requeue: false });
    await mock.close();
    opened.close();
    env.cleanup();
  });
  return { env, mock, service, spec: claude.api_fallback! };
}

function expectedCost(
  usage: { input: number; output: number; cache_read: number; cache_write: number },
  spec: ApiFallbackSpec,
): number {
  const p = spec.price_per_mtok;
  return (
    (usage.input * p.input +
      usage.output * p.output +
      usage.cache_read * p.cache_read +
      usage.cache_write * p.cache_write) /
    1e6
  );
}

test('API fallback: a claude task without the CLI streams its answer through the Messages API', async (t) => {
  const usage = { input: 1234, output: 56, cache_read: 700, cache_write: 90 };
  const chunks = ['The answer', ' is 42.\nSecond', ' line.'];
  const { mock, service, spec } = await setup(t, [{ kind: 'stream', chunks, usage }]);
  const events: { state: string; executor: string | null }[] = [];
  service.onDidChangeTask((e) => events.push({ state: e.state, executor: e.executor }));
  const { tasks } = await service.submit({ cli_tool: 'claude', prompt: 'what is the answer?' });
  const task = await service.waitForFinal(tasks[0]!.task_id, 30_000);

  assert.equal(task.state, 'passed', task.error ?? task.state_reason);
  assert.equal(task.executor, 'api');
  assert.deepEqual(
    events.find((e) => e.state === 'running'),
    { state: 'running', executor: 'api' },
    'live events say so from the moment it runs',
  );
  assert.equal(task.result_text, chunks.join(''));
  assert.equal(task.attempts, 1);
  assert.match(task.state_reason, /answered through the API \(stop_reason: end_turn\)/);
  assert.deepEqual(
    { ...task.usage, cost_usd: null },
    { input_tokens: 1234, output_tokens: 56, cache_read_tokens: 700, cost_usd: null },
  );
  assert.ok(Math.abs(task.usage.cost_usd! - expectedCost(usage, spec)) < 1e-12, String(task.usage.cost_usd));

  // What went over the wire: the key from the environment, the model from the provider data, streaming.
  assert.equal(mock.requests.length, 1);
  const req = mock.requests[0]!;
  // SDK 1.x sends the key as a bearer credential (older versions used x-api-key).
  assert.equal(req.headers.authorization ?? `Bearer ${req.headers['x-api-key']}`, `Bearer ${KEY}`);
  assert.equal(req.body.model, spec.model);
  assert.equal(req.body.max_tokens, spec.max_tokens);
  assert.equal(req.body.stream, true);
  assert.deepEqual(req.body.messages, [{ role: 'user', content: 'what is the answer?' }]);
  assert.equal(req.body.tools, undefined, 'text only: the API executor offers the model no tools');

  const detail = await service.getDetail(task.task_id);
  assert.ok(
    detail.history.some(
      (h) => h.state_to === 'running' && /not installed: answering through the API/.test(h.reason),
    ),
    JSON.stringify(detail.history),
  );
  const text = detail.outputs.filter((o) => o.event_type === 'text').map((o) => o.content);
  assert.deepEqual(text, ['The answer is 42.', 'Second line.']);
  assert.ok(detail.outputs.some((o) => o.event_type === 'message_stop'));
  assert.ok(!JSON.stringify(detail).includes(KEY), 'the key is never stored');

  // The attempt's figures feed the same metrics as CLI runs.
  const metrics = service.getMetrics();
  const claude = metrics.providers.find((p) => p.cli_tool === 'claude')!;
  assert.equal(claude.counts.passed, 1);
  assert.equal(claude.input_tokens, 1234);
  assert.ok(Math.abs(claude.cost_usd - expectedCost(usage, spec)) < 1e-12);
});

test('API fallback: 529 overloaded is retried by the SDK within the attempt, and the retries are bounded', async (t) => {
  const usage = { input: 10, output: 3, cache_read: 0, cache_write: 0 };
  await t.test('one 529, then the answer: passed in one attempt, two requests', async (t) => {
    const { mock, service } = await setup(t, [
      {
        kind: 'status',
        status: 529,
        type: 'overloaded_error',
        message: 'Overloaded',
        headers: { 'retry-after-ms': '400' },
      },
      { kind: 'stream', chunks: ['fine now'], usage },
    ]);
    const { tasks } = await service.submit({ cli_tool: 'claude', prompt: 'hi' });
    const task = await service.waitForFinal(tasks[0]!.task_id, 30_000);
    assert.equal(task.state, 'passed', task.error ?? task.state_reason);
    assert.equal(task.result_text, 'fine now');
    assert.equal(task.attempts, 1, 'the SDK retried inside the attempt; the queue did not');
    assert.equal(mock.requests.length, 2);
    const gap = mock.requests[1]!.at - mock.requests[0]!.at;
    assert.ok(gap >= 350, `the SDK waited as retry-after-ms said (400 ms), not ${gap} ms`);
    const detail = await service.getDetail(task.task_id);
    assert.ok(
      detail.outputs.some((o) => o.stream === 'stderr' && /status 529.*retrying/.test(o.content)),
      'the retry shows in the task output',
    );
  });
  await t.test('529 every time: (2 SDK retries + 1) x (task retries + 1) requests, then error', async (t) => {
    const { mock, service } = await setup(t, [
      {
        kind: 'status',
        status: 529,
        type: 'overloaded_error',
        message: 'Overloaded',
        headers: { 'retry-after-ms': '10' },
      },
    ]);
    const { tasks } = await service.submit({ cli_tool: 'claude', prompt: 'hi', max_retries: 1 });
    const task = await service.waitForFinal(tasks[0]!.task_id, 30_000);
    assert.equal(task.state, 'error');
    assert.equal(task.attempts, 2);
    // The default: the SDK retries twice per attempt; the task's max_retries 1 gives a second attempt.
    assert.equal(mock.requests.length, (2 + 1) * (1 + 1));
    assert.match(task.error ?? '', /HTTP 529 overloaded_error/);
    assert.match(task.error ?? '', /Overloaded/);
  });
});

test('API fallback: a 401 fails the task at once, not retried, with the reason', async (t) => {
  const { mock, service } = await setup(t, [
    { kind: 'status', status: 401, type: 'authentication_error', message: 'invalid x-api-key' },
  ]);
  const { tasks } = await service.submit({ cli_tool: 'claude', prompt: 'hi', max_retries: 3 });
  const task = await service.waitForFinal(tasks[0]!.task_id, 30_000);
  assert.equal(task.state, 'failed');
  assert.equal(task.executor, 'api');
  assert.equal(task.attempts, 1);
  assert.equal(mock.requests.length, 1, 'neither the SDK nor the queue retried');
  assert.match(
    task.error ?? '',
    /authentication is missing or was refused \(HTTP 401 authentication_error; not retried\)/,
  );
  assert.match(task.error ?? '', /invalid x-api-key/);
  assert.match(task.state_reason, /not retried/);
  assert.equal(task.usage.cost_usd, null, 'nothing was billed');
});

test('API fallback: cancel mid-stream aborts the HTTP request (the server sees the connection close)', async (t) => {
  const { mock, service } = await setup(t, [
    {
      kind: 'stream',
      chunks: ['first line\n', 'second line\n'],
      usage: { input: 5, output: 2, cache_read: 0, cache_write: 0 },
      stall: true,
    },
  ]);
  const { tasks } = await service.submit({ cli_tool: 'claude', prompt: 'write a long essay' });
  const id = tasks[0]!.task_id;
  await waitFor(() => mock.requests[0]?.sent === 2, 'the mock to stream two lines');
  // Mid-stream: both lines have reached the task's output, and the stream is still open.
  await waitFor(
    async () => (await service.getDetail(id)).outputs.filter((o) => o.event_type === 'text').length === 2,
    'both lines in the output',
  );
  assert.equal((await service.get(id)).state, 'running');
  await assert.rejects(service.pause(id), TaskConflictError, 'no process to stop: pause is refused');

  const aborted = mock.waitForClientAbort(0);
  const cancelled = await service.cancel(id);
  await aborted;
  assert.equal(cancelled.state, 'cancelled');
  assert.equal(cancelled.executor, 'api');
  assert.equal(mock.requests[0]!.abortedByClient, true);
  assert.equal(mock.requests[0]!.finished, false);
  const detail = await service.getDetail(id);
  assert.deepEqual(
    detail.outputs.filter((o) => o.event_type === 'text').map((o) => o.content),
    ['first line', 'second line'],
  );
});

test('API fallback: the task timeout aborts a stalled stream', async (t) => {
  const { mock, service } = await setup(t, [
    {
      kind: 'stream',
      chunks: ['thinking'],
      usage: { input: 5, output: 1, cache_read: 0, cache_write: 0 },
      stall: true,
    },
  ]);
  const { tasks } = await service.submit({ cli_tool: 'claude', prompt: 'hi', timeout_s: 1 });
  const task = await service.waitForFinal(tasks[0]!.task_id, 30_000);
  assert.equal(task.state, 'timeout');
  await mock.waitForClientAbort(0);
  assert.equal(mock.requests.length, 1);
});

test('API fallback off, or no key: the error names both ways the task could have run', async (t) => {
  await t.test('neither the CLI nor ANTHROPIC_API_KEY', async (t) => {
    const env = tempEnv();
    const opened = openTaskDb(env.dbPath);
    const { ANTHROPIC_API_KEY: _drop, ...withoutKey } = process.env;
    const service = createTaskService({
      db: opened.db,
      providers: fakeRegistry([claudeWithoutCli(env.dir)]),
      env: withoutKey,
    });
    t.after(async () => {
      await service.shutdown({ requeue: false });
      opened.close();
      env.cleanup();
    });
    const { tasks } = await service.submit({ cli_tool: 'claude', prompt: 'hi', max_retries: 2 });
    const task = await service.waitForFinal(tasks[0]!.task_id, 30_000);
    assert.equal(task.state, 'error');
    assert.equal(task.attempts, 1, 'not retried');
    assert.equal(task.executor, null);
    assert.match(task.error ?? '', /claude is not installed or not on PATH/);
    assert.match(task.error ?? '', /ANTHROPIC_API_KEY is not set/);
  });
  await t.test('tasks.api_fallback: false', async (t) => {
    const { mock, service } = await setup(
      t,
      [{ kind: 'stream', chunks: ['never'], usage: { input: 1, output: 1, cache_read: 0, cache_write: 0 } }],
      { apiFallback: false },
    );
    const { tasks } = await service.submit({ cli_tool: 'claude', prompt: 'hi' });
    const task = await service.waitForFinal(tasks[0]!.task_id, 30_000);
    assert.equal(task.state, 'error');
    assert.match(
      task.error ?? '',
      /not installed or not on PATH; the API fallback is turned off \(tasks\.api_fallback: false/,
    );
    assert.equal(mock.requests.length, 0);
  });
});

test('with the CLI installed the CLI runs, even when the API fallback is available', async (t) => {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  const mock = await startMockMessagesApi([
    {
      kind: 'stream',
      chunks: ['from the API'],
      usage: { input: 1, output: 1, cache_read: 0, cache_write: 0 },
    },
  ]);
  const claude = defaultProviders().find((p) => p.id === 'claude')!;
  const cli = fakeProvider('claude', { api_fallback: claude.api_fallback ?? null });
  const service = createTaskService({
    db: opened.db,
    providers: fakeRegistry([cli]),
    env: { ...process.env, ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: mock.url },
  });
  t.after(async () => {
    await service.shutdown({ requeue: false });
    await mock.close();
    opened.close();
    env.cleanup();
  });
  const { tasks } = await service.submit({ cli_tool: 'claude', prompt: 'ok via-cli' });
  const task = await service.waitForFinal(tasks[0]!.task_id, 30_000);
  assert.equal(task.state, 'passed');
  assert.equal(task.executor, 'cli');
  assert.equal(task.result_text, 'done via-cli');
  assert.equal(mock.requests.length, 0);
});

test('shared queue: only a worker that can run the task claims it (the API fallback counts, a missing key does not)', async (t) => {
  const server = await startRedisServer();
  t.after(() => server.close());
  const mock = await startMockMessagesApi([
    {
      kind: 'stream',
      chunks: ['answered by the api worker'],
      usage: { input: 3, output: 5, cache_read: 0, cache_write: 0 },
    },
  ]);
  t.after(() => mock.close());
  const { ANTHROPIC_API_KEY: _drop, ...withoutKey } = process.env;
  const worker = (id: string, env: NodeJS.ProcessEnv, concurrency: number) => {
    const dir = tempEnv();
    const opened = openTaskDb(dir.dbPath);
    const svc = createTaskService({
      db: opened.db,
      providers: fakeRegistry([claudeWithoutCli(dir.dir)]),
      workerId: id,
      redis: { url: server.url, lease_ms: 1500, poll_ms: 50, reap_ms: 200 },
      limits: { global_concurrency: concurrency, per_user_per_hour: 1000 },
      env: { ...env, HOME: dir.dir },
    });
    t.after(async () => {
      await svc.shutdown({ requeue: false });
      opened.close();
      dir.cleanup();
    });
    return svc;
  };
  const submitter = worker('submitter', withoutKey, 0);
  worker('no-key', withoutKey, 4);
  worker('with-key', { ...withoutKey, ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: mock.url }, 4);
  const { tasks } = await submitter.submit({ cli_tool: 'claude', prompt: 'hi', working_directory: '/' });
  const task = await submitter.waitForFinal(tasks[0]!.task_id, 30_000);
  assert.equal(task.state, 'passed', task.error ?? task.state_reason);
  assert.equal(task.worker_id, 'with-key');
  assert.equal(task.executor, 'api');
  assert.equal(task.attempts, 1, 'the worker without a key never claimed it');
});

test('API fallback: credentials in ANTHROPIC_BASE_URL never reach the history, outputs or error', async (t) => {
  const mock = await startMockMessagesApi([
    { kind: 'stream', chunks: ['x'], usage: { input: 1, output: 1, cache_read: 0, cache_write: 0 } },
  ]);
  const dir = tempEnv();
  const opened = openTaskDb(dir.dbPath);
  const service = createTaskService({
    db: opened.db,
    providers: fakeRegistry([claudeWithoutCli(dir.dir)]),
    env: {
      ...process.env,
      HOME: dir.dir,
      ANTHROPIC_API_KEY: KEY,
      ANTHROPIC_BASE_URL: mock.url.replace('//', '//gw-user:gw-secret-pw@'),
    },
  });
  t.after(async () => {
    await service.shutdown({ requeue: false });
    await mock.close();
    opened.close();
    dir.cleanup();
  });
  const { tasks } = await service.submit({ cli_tool: 'claude', prompt: 'hi', max_retries: 0 });
  const task = await service.waitForFinal(tasks[0]!.task_id, 30_000);
  assert.ok(FINAL_TASK_STATES.has(task.state), task.state);
  const detail = await service.getDetail(task.task_id);
  assert.ok(
    detail.history.some((h) => h.reason.includes(mock.url)),
    JSON.stringify(detail.history),
  );
  assert.ok(!JSON.stringify(detail).includes('gw-secret-pw'), JSON.stringify(detail));
});
