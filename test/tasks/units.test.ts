import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { getOutputFormat, outputFormatFor } from '../../src-main/core/tasks/output-formats.ts';
import { OneShotOutputParser } from '../../src-main/core/tasks/output-parser.ts';
import { slidingWindowVerdict } from '../../src-main/core/tasks/rate-limit.ts';
import { computeTaskMetrics, nearestRank } from '../../src-main/core/tasks/task-metrics.ts';
import { tasksRecoverer } from '../../src-main/core/tasks/task-recovery.ts';
import { TaskStore } from '../../src-main/core/tasks/task-store.ts';
import { TASK_TRANSITIONS } from '../../src-main/core/tasks/transitions.ts';
import { SubmitTaskSchema, TASK_STATES } from '../../src-shared/tasks.ts';
import { fakeProvider, groupAlive, openTaskDb, tempEnv, waitFor } from './helpers.ts';

const lines = (events: unknown[]) =>
  `${events.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('\n')}\n`;

test('claude stream-json: result, usage, cost, is_error; chunking does not matter', () => {
  const text = lines([
    { type: 'system', subtype: 'init', session_id: 's1' },
    { type: 'assistant', message: { content: [{ type: 'text', text: 'hi' }] } },
    {
      type: 'result',
      is_error: false,
      result: 'final answer ✓',
      total_cost_usd: 0.5,
      duration_ms: 1234,
      usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 7 },
    },
  ]);
  const parser = new OneShotOutputParser(getOutputFormat('claude-stream-json')!);
  // Feed one character at a time: lines split anywhere must still parse.
  const rows = [...text].flatMap((ch) => parser.push(ch)).concat(parser.end());
  assert.deepEqual(
    rows.map((r) => r.event_type),
    ['system', 'assistant', 'result'],
  );
  const r = parser.result();
  assert.equal(r.result_text, 'final answer ✓');
  assert.equal(r.cost_usd, 0.5);
  assert.equal(r.input_tokens, 10);
  assert.equal(r.output_tokens, 3);
  assert.equal(r.cache_read_tokens, 7);
  assert.equal(r.reported_duration_ms, 1234);
  assert.equal(r.session_id, 's1');
  assert.equal(r.is_error, false);
  assert.equal(r.saw_final, true);
});

test('codex exec --json: last agent message, usage summed over turns, turn.failed is a failure', () => {
  const parser = new OneShotOutputParser(getOutputFormat('codex-stream-json')!);
  parser.push(
    lines([
      { type: 'thread.started', thread_id: 't-1' },
      { type: 'turn.started' },
      { type: 'item.completed', item: { id: 'i1', type: 'reasoning', text: 'thinking' } },
      { type: 'item.completed', item: { id: 'i2', type: 'agent_message', text: 'first' } },
      { type: 'turn.completed', usage: { input_tokens: 100, cached_input_tokens: 40, output_tokens: 10 } },
      { type: 'item.completed', item: { id: 'i3', type: 'agent_message', text: 'second' } },
      { type: 'turn.completed', usage: { input_tokens: 50, cached_input_tokens: 0, output_tokens: 5 } },
    ]),
  );
  const ok = parser.result();
  assert.equal(ok.result_text, 'second');
  assert.equal(ok.input_tokens, 150);
  assert.equal(ok.output_tokens, 15);
  assert.equal(ok.cache_read_tokens, 40);
  assert.equal(ok.session_id, 't-1');
  assert.equal(ok.is_error, false);

  const failing = new OneShotOutputParser(getOutputFormat('codex-stream-json')!);
  failing.push(lines([{ type: 'turn.failed', error: { message: 'model overloaded' } }]));
  assert.equal(failing.result().is_error, true);
  assert.equal(failing.result().error, 'model overloaded');
});

test('gemini stream-json: streamed message deltas join into the result; stats give tokens', () => {
  const parser = new OneShotOutputParser(getOutputFormat('gemini-stream-json')!);
  parser.push(
    lines([
      { type: 'init', session_id: 'g1', model: 'gemini-2.5-pro' },
      { type: 'message', role: 'user', content: 'question' },
      { type: 'message', role: 'assistant', content: 'Hel', delta: true },
      { type: 'message', role: 'assistant', content: 'lo', delta: true },
      { type: 'result', status: 'success', stats: { input_tokens: 9, output_tokens: 2, duration_ms: 77 } },
    ]),
  );
  const r = parser.result();
  assert.equal(r.result_text, 'Hello');
  assert.equal(r.input_tokens, 9);
  assert.equal(r.reported_duration_ms, 77);
  assert.equal(r.is_error, false);
  const failed = new OneShotOutputParser(getOutputFormat('gemini-stream-json')!);
  failed.push(lines([{ type: 'result', status: 'error', error: { message: 'quota' } }]));
  assert.equal(failed.result().is_error, true);
  assert.equal(failed.result().error, 'quota');
});

test('garbage never throws: binary, huge, nested, prototype keys, non-objects', () => {
  const parser = new OneShotOutputParser(getOutputFormat('stream-json')!);
  const rows = parser.push(
    lines([
      '\u0000\u0001\u0002',
      '{"__proto__": {"polluted": true}, "type": "result", "result": "ok"}',
      '"just a string"',
      '12',
      '{"type": {"nested": 1}}',
      `{"type":"assistant","message":{"content":"not-an-array"}}`,
      'x'.repeat(2_000_000),
    ]),
  );
  assert.equal(rows.length, 7);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const r = parser.result();
  assert.equal(r.result_text, 'ok');
  assert.equal(r.malformed, 4);
  assert.ok(rows.every((row) => row.content.length <= 1_000_000));
});

test('provider formats are looked up as data; text format takes stdout as the result', () => {
  assert.equal(outputFormatFor(fakeProvider('claude')).id, 'claude-stream-json');
  assert.equal(outputFormatFor(fakeProvider('codex')).id, 'codex-stream-json');
  assert.equal(outputFormatFor(fakeProvider('my-agent')).id, 'stream-json');
  const textDef = fakeProvider('plain', {
    one_shot: { args: [], prompt: { via: 'stdin' }, output: 'text', full_access_args: [] },
  });
  const parser = new OneShotOutputParser(outputFormatFor(textDef));
  parser.push('line one\nline two');
  parser.end();
  assert.equal(parser.result().result_text, 'line one\nline two');
});

test('nearest-rank percentiles on known durations', () => {
  const one_to_100 = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(nearestRank(one_to_100, 50), 50);
  assert.equal(nearestRank(one_to_100, 95), 95);
  assert.equal(nearestRank(one_to_100, 99), 99);
  assert.equal(nearestRank([7], 99), 7);
  assert.equal(nearestRank([], 50), null);
  assert.equal(nearestRank([10, 20, 30, 40], 50), 20);
  assert.equal(nearestRank([10, 20, 30, 40], 95), 40);
});

test('getMetrics computes per-provider percentiles, success rate and totals from the tables', (t) => {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  t.after(() => {
    opened.close();
    env.cleanup();
  });
  const store = new TaskStore(opened.db);
  const durations = Array.from({ length: 200 }, (_, i) => (i + 1) * 10).sort(() => Math.random() - 0.5);
  store.insert(
    durations.map((_, i) => ({
      task_id: `t${i}`,
      batch_id: null,
      created_at: new Date().toISOString(),
      options: {
        ...SubmitTaskSchema.parse({ cli_tool: i < 100 ? 'a' : 'b', prompt: 'p' }),
        working_directory: '/',
      },
    })),
  );
  durations.forEach((d, i) => {
    const to = i % 4 === 0 ? 'failed' : 'passed';
    store.transition(`t${i}`, ['queued'], 'starting', 'test');
    store.transition(`t${i}`, ['starting'], 'running', 'test');
    store.transition(`t${i}`, ['running'], 'completing', 'test');
    store.transition(`t${i}`, ['completing'], to, 'test');
    store.recordMetric({
      task_id: `t${i}`,
      attempt: 1,
      cli_tool: i < 100 ? 'a' : 'b',
      outcome: to,
      queue_wait_ms: 0,
      duration_ms: d,
      reported_duration_ms: null,
      input_tokens: 1,
      output_tokens: 2,
      cache_read_tokens: 0,
      cost_usd: 0.25,
      exit_code: 0,
      output_lines: 1,
      malformed_lines: 0,
      worker_id: 'w',
    });
  });
  const m = computeTaskMetrics(opened.db);
  const expected = (list: number[], p: number) =>
    nearestRank(
      [...list].sort((x, y) => x - y),
      p,
    );
  for (const [tool, slice] of [
    ['a', durations.slice(0, 100)],
    ['b', durations.slice(100)],
  ] as const) {
    const p = m.providers.find((x) => x.cli_tool === tool)!;
    assert.equal(p.duration_ms.count, 100);
    assert.equal(p.duration_ms.p50, expected(slice, 50));
    assert.equal(p.duration_ms.p95, expected(slice, 95));
    assert.equal(p.duration_ms.p99, expected(slice, 99));
    assert.equal(p.cost_usd, 25);
  }
  assert.equal(m.duration_ms.p50, 1000);
  assert.equal(m.duration_ms.p95, 1900);
  assert.equal(m.duration_ms.p99, 1980);
  assert.equal(m.success_rate, 0.75);
  assert.equal(m.output_tokens, 400);
  const summary = opened.db.prepare("SELECT * FROM task_summary WHERE cli_tool = 'a'").get() as Record<
    string,
    number
  >;
  assert.equal(summary.total, 100);
  assert.equal(summary.failed, 25);
});

test('the schema refuses transitions outside TASK_TRANSITIONS and records every change with a reason', (t) => {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  t.after(() => {
    opened.close();
    env.cleanup();
  });
  const db = opened.db;
  const rows = db.prepare('SELECT from_state, to_state FROM task_transitions').all() as {
    from_state: string;
    to_state: string;
  }[];
  const fromSql = Object.fromEntries(TASK_STATES.map((s) => [s, [] as string[]]));
  for (const r of rows) fromSql[r.from_state]!.push(r.to_state);
  for (const s of TASK_STATES) assert.deepEqual([...fromSql[s]!].sort(), [...TASK_TRANSITIONS[s]].sort(), s);

  const store = new TaskStore(db);
  store.insert([
    {
      task_id: 'x',
      batch_id: null,
      created_at: new Date().toISOString(),
      options: { ...SubmitTaskSchema.parse({ cli_tool: 'a', prompt: 'p' }), working_directory: '/' },
    },
  ]);
  assert.throws(
    () => db.prepare("UPDATE tasks SET state = 'passed' WHERE task_id = 'x'").run(),
    /invalid task state/,
  );
  const before = (
    db.prepare("SELECT updated_at FROM tasks WHERE task_id = 'x'").get() as { updated_at: string }
  ).updated_at;
  db.prepare("UPDATE tasks SET state = 'cancelled', state_reason = 'by hand' WHERE task_id = 'x'").run();
  const history = store.history('x');
  assert.deepEqual(
    history.map((h) => [h.state_from, h.state_to, h.reason]),
    [
      [null, 'queued', 'submitted'],
      ['queued', 'cancelled', 'by hand'],
    ],
  );
  const after = (
    db.prepare("SELECT updated_at FROM tasks WHERE task_id = 'x'").get() as { updated_at: string }
  ).updated_at;
  assert.ok(after >= before);
  assert.equal(store.transition('x', ['queued'], 'starting', 'late'), null, 'compare-and-set refuses');
});

test('recovery: queued stay, interrupted runs are re-queued while retries remain, else error', async (t) => {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  t.after(() => {
    opened.close();
    env.cleanup();
  });
  const store = new TaskStore(opened.db);
  const mk = (id: string, maxRetries: number) => ({
    task_id: id,
    batch_id: null,
    created_at: new Date().toISOString(),
    options: {
      ...SubmitTaskSchema.parse({ cli_tool: 'a', prompt: 'p', max_retries: maxRetries }),
      working_directory: '/',
    },
  });
  store.insert([mk('q', 2), mk('held', 2), mk('run-retry', 2), mk('run-final', 0), mk('starting', 1)]);
  store.transition('held', ['queued'], 'paused', 'held');
  // FIFO claims take q, run-retry and run-final (held is skipped); the task named "starting" stays queued.
  for (let i = 0; i < 3; i++) store.claimNext(['a'], 'old-worker', Date.now());
  const states = Object.fromEntries(
    (opened.db.prepare('SELECT task_id, state FROM tasks').all() as { task_id: string; state: string }[]).map(
      (r) => [r.task_id, r.state],
    ),
  );
  assert.equal(states.q, 'starting');
  store.transition('run-retry', ['starting'], 'running', 'spawned', { pid: 999_999_999 });
  store.transition('run-final', ['starting'], 'running', 'spawned');
  const counts = tasksRecoverer.run(opened.db);
  const after = (id: string) => store.get(id)!.info;
  assert.equal(after('q').state, 'queued', 'interrupted while starting, retries remain');
  assert.equal(after('run-retry').state, 'queued');
  assert.equal(after('run-final').state, 'error');
  assert.match(after('run-final').error ?? '', /interrupted/);
  assert.equal(after('held').state, 'paused');
  assert.equal(after('starting').state, 'queued', 'never claimed, still queued');
  assert.deepEqual(counts, { requeued_queued: 2, requeued_interrupted: 2, errored: 1, killed_groups: 0 });
  assert.ok(store.history('run-retry').some((h) => /interrupted by restart/.test(h.reason)));
});

test('sliding window: retry_after is when enough old entries leave the window', () => {
  const hour = 3_600_000;
  const now = 10 * hour;
  const times = Array.from({ length: 10 }, (_, i) => now - hour + 60_000 * (i + 1)); // one a minute
  assert.deepEqual(slidingWindowVerdict(times.slice(0, 9), 1, 10, hour, now), { allowed: true });
  assert.deepEqual(slidingWindowVerdict(times, 1, 10, hour, now), { allowed: false, retry_after_s: 60 });
  assert.deepEqual(slidingWindowVerdict(times, 3, 10, hour, now), { allowed: false, retry_after_s: 180 });
  assert.deepEqual(slidingWindowVerdict([], 11, 10, hour, now), { allowed: false, retry_after_s: 3600 });
});

test('recovery kills a leftover agent group only when /proc shows our task marker', async (t) => {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  const { spawn } = await import('node:child_process');
  const spawnHang = (taskId: string) =>
    spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, AUTODEV_TASK_ID: taskId },
    });
  const ours = spawnHang('orphan');
  const stranger = spawnHang('someone-else');
  t.after(() => {
    for (const p of [ours, stranger]) {
      try {
        process.kill(-p.pid!, 'SIGKILL');
      } catch {}
    }
    opened.close();
    env.cleanup();
  });
  const store = new TaskStore(opened.db);
  const mk = (id: string) => ({
    task_id: id,
    batch_id: null,
    created_at: new Date().toISOString(),
    options: { ...SubmitTaskSchema.parse({ cli_tool: 'a', prompt: 'p' }), working_directory: '/' },
  });
  store.insert([mk('orphan'), mk('recycled')]);
  store.claimNext(['a'], 'dead-worker', Date.now());
  store.claimNext(['a'], 'dead-worker', Date.now());
  store.transition('orphan', ['starting'], 'running', 'spawned', { pid: ours.pid! });
  // A recycled pid: the row says "recycled" but that process belongs to someone else's task.
  store.transition('recycled', ['starting'], 'running', 'spawned', { pid: stranger.pid! });
  await waitFor(() => {
    try {
      return readFileSync(`/proc/${ours.pid}/environ`, 'latin1').includes('AUTODEV_TASK_ID=orphan');
    } catch {
      return false;
    }
  }, 'orphan environ readable');
  const counts = tasksRecoverer.run(opened.db);
  assert.equal(counts.killed_groups, 1);
  await waitFor(() => !groupAlive(ours.pid!), 'orphan group gone');
  assert.equal(groupAlive(stranger.pid!), true, 'the stranger is spared');
  assert.equal(store.get('orphan')!.info.state, 'queued');
});

test('query plans: the claim walks the partial queue index; lists and the rate window need no sort', (t) => {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  t.after(() => {
    opened.close();
    env.cleanup();
  });
  const plan = (sql: string, ...args: unknown[]) =>
    (opened.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[])
      .map((r) => r.detail)
      .join(' | ');
  assert.match(
    plan(
      `SELECT task_id FROM tasks INDEXED BY idx_tasks_queue WHERE state = 'queued' AND available_at_ms <= ?
       AND cli_tool IN (?, ?) ORDER BY priority DESC, seq LIMIT 1`,
      0,
      'a',
      'b',
    ),
    /USING INDEX idx_tasks_queue$/,
  );
  for (const [sql, args, index] of [
    ['SELECT * FROM tasks ORDER BY created_at DESC, seq DESC LIMIT 50', [], 'idx_tasks_created'],
    [
      'SELECT * FROM tasks WHERE state = ? ORDER BY created_at DESC, seq DESC LIMIT 50',
      ['passed'],
      'idx_tasks_state_created',
    ],
    [
      'SELECT created_at FROM tasks WHERE user_id = ? AND created_at > ? ORDER BY created_at',
      ['u', ''],
      'idx_tasks_user_created',
    ],
    [
      'SELECT duration_ms FROM task_metrics WHERE cli_tool = ? AND duration_ms IS NOT NULL ORDER BY duration_ms LIMIT 1 OFFSET 5',
      ['a'],
      'idx_task_metrics_tool_duration',
    ],
    ['SELECT * FROM task_history WHERE task_id = ? ORDER BY id', ['x'], 'idx_task_history_task'],
  ] as const) {
    const p = plan(sql, ...args);
    assert.match(p, new RegExp(index), sql);
    assert.doesNotMatch(p, /TEMP B-TREE/, sql);
  }
});
