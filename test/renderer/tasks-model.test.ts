import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProviderSummary } from '../../src-shared/rest.ts';
import {
  type SubmitTaskRequest,
  TASK_STATES,
  type TaskInfo,
  type TaskState,
} from '../../src-shared/tasks.ts';
import { loadRenderer } from './helpers/renderer.ts';
import { task } from './helpers/task.ts';

// Declared shapes: a static import would pull renderer files into the Node project (see helpers/renderer.ts).
type ListState = { byId: Record<string, TaskInfo>; loaded: boolean };
type ListAction = { type: 'loaded'; tasks: TaskInfo[] } | { type: 'upsert'; task: TaskInfo };
type Form = {
  cli_tool: string;
  prompt: string;
  batch: boolean;
  working_directory: string;
  priority: string;
  timeout_s: string;
  full_access: boolean;
};
interface Model {
  taskGroup(t: { state: TaskState; started_at: string | null }): string;
  taskBadge(s: TaskState): { kind: string; label: string; animated: boolean };
  allowedActions(s: TaskState): string[];
  INITIAL_TASK_LIST: ListState;
  taskListReducer(s: ListState, a: ListAction): ListState;
  asTaskInfo(v: unknown): TaskInfo | null;
  groupTasks(
    byId: Record<string, TaskInfo>,
    limit?: number,
  ): { queue: TaskInfo[]; running: TaskInfo[]; finished: TaskInfo[] };
  oneShotProviders(p: ProviderSummary[]): ProviderSummary[];
  buildTaskRequests(
    f: Form,
    p: { supports_full_access: boolean } | undefined,
  ): { requests: SubmitTaskRequest[] } | { error: string };
  formatDuration(ms: number | null): string;
  formatCost(usd: number | null): string;
  formatCount(n: number | null): string;
  formatPercent(r: number | null): string;
  taskElapsed(t: TaskInfo, now: number): number | null;
  promptTitle(p: string, max?: number): string;
}
const m = await loadRenderer<Model>('model/tasks.ts');

test('groups: queued (and paused before start) wait, active states run, final states are finished', () => {
  const expect: Record<TaskState, string> = {
    queued: 'queue',
    starting: 'running',
    running: 'running',
    paused: 'running',
    completing: 'running',
    passed: 'finished',
    failed: 'finished',
    error: 'finished',
    cancelled: 'finished',
    timeout: 'finished',
  };
  for (const state of TASK_STATES)
    assert.equal(m.taskGroup({ state, started_at: '2026-01-01T00:00:01Z' }), expect[state], state);
  assert.equal(m.taskGroup({ state: 'paused', started_at: null }), 'queue');
});

test('badges: every state has text; passed is its own kind, failures look like errors', () => {
  for (const state of TASK_STATES) assert.ok(m.taskBadge(state).label.length > 0, state);
  assert.equal(m.taskBadge('passed').kind, 'passed');
  assert.equal(m.taskBadge('timeout').kind, 'error');
  assert.equal(m.taskBadge('timeout').label, 'Timed out');
  assert.equal(m.taskBadge('running').animated, true);
  assert.equal(m.taskBadge('queued').animated, false);
});

test('controls follow what the service accepts per state', () => {
  assert.deepEqual(m.allowedActions('queued'), ['pause', 'cancel']);
  assert.deepEqual(m.allowedActions('running'), ['pause', 'cancel']);
  assert.deepEqual(m.allowedActions('paused'), ['resume', 'cancel']);
  assert.deepEqual(m.allowedActions('starting'), ['cancel']);
  for (const s of ['passed', 'failed', 'error', 'cancelled', 'timeout'] as const)
    assert.deepEqual(m.allowedActions(s), []);
});

test('live list: events upsert; a late page never rolls a task back; a retry moves forward', () => {
  let s = m.INITIAL_TASK_LIST;
  s = m.taskListReducer(s, { type: 'upsert', task: task({ task_id: 'a', state: 'running', attempts: 1 }) });
  s = m.taskListReducer(s, { type: 'upsert', task: task({ task_id: 'a', state: 'passed', attempts: 1 }) });
  // The page was read before the run finished and arrives late.
  s = m.taskListReducer(s, {
    type: 'loaded',
    tasks: [task({ task_id: 'a', state: 'running', attempts: 1 }), task({ task_id: 'b' })],
  });
  assert.equal(s.loaded, true);
  assert.equal(s.byId.a?.state, 'passed');
  assert.equal(s.byId.b?.state, 'queued');
  // A retry: back to queued with attempts + 1 is newer than the failed first attempt's running.
  s = m.taskListReducer(s, { type: 'upsert', task: task({ task_id: 'b', state: 'running', attempts: 1 }) });
  s = m.taskListReducer(s, { type: 'upsert', task: task({ task_id: 'b', state: 'queued', attempts: 2 }) });
  assert.equal(s.byId.b?.state, 'queued');
  assert.equal(s.byId.b?.attempts, 2);
  // Pause and resume are the same phase: the live event wins over what is there.
  s = m.taskListReducer(s, { type: 'upsert', task: task({ task_id: 'b', state: 'running', attempts: 2 }) });
  s = m.taskListReducer(s, { type: 'upsert', task: task({ task_id: 'b', state: 'paused', attempts: 2 }) });
  assert.equal(s.byId.b?.state, 'paused');
  // An identical-phase page does not override the live copy.
  const same = m.taskListReducer(s, { type: 'upsert', task: s.byId.a! });
  assert.equal(same.byId.a, s.byId.a);
});

test('asTaskInfo accepts task-shaped payloads only', () => {
  assert.equal(m.asTaskInfo(null), null);
  assert.equal(m.asTaskInfo({ task_id: 1, state: 'queued', cli_tool: 'x' }), null);
  assert.equal(m.asTaskInfo('task'), null);
  assert.equal(m.asTaskInfo(task({ task_id: 'x' }))?.task_id, 'x');
});

test('grouping order: queue by priority then FIFO, running oldest first, finished newest first', () => {
  const byId: Record<string, TaskInfo> = {};
  const add = (t: TaskInfo) => {
    byId[t.task_id] = t;
  };
  add(task({ task_id: 'q-low', priority: 10, created_at: '2026-01-01T00:00:00Z' }));
  add(task({ task_id: 'q-high-late', priority: 90, created_at: '2026-01-01T00:00:05Z' }));
  add(task({ task_id: 'q-high-early', priority: 90, created_at: '2026-01-01T00:00:01Z' }));
  add(task({ task_id: 'r2', state: 'running', started_at: '2026-01-01T00:01:02Z' }));
  add(task({ task_id: 'r1', state: 'running', started_at: '2026-01-01T00:01:01Z' }));
  add(task({ task_id: 'f-old', state: 'passed', ended_at: '2026-01-01T00:02:00Z' }));
  add(task({ task_id: 'f-new', state: 'failed', ended_at: '2026-01-01T00:03:00Z' }));
  const g = m.groupTasks(byId);
  assert.deepEqual(
    g.queue.map((t) => t.task_id),
    ['q-high-early', 'q-high-late', 'q-low'],
  );
  assert.deepEqual(
    g.running.map((t) => t.task_id),
    ['r1', 'r2'],
  );
  assert.deepEqual(
    g.finished.map((t) => t.task_id),
    ['f-new', 'f-old'],
  );
  assert.equal(m.groupTasks(byId, 1).finished.length, 1);
});

const provider = (over: Partial<ProviderSummary> = {}): ProviderSummary => ({
  id: 'claude',
  name: 'Claude',
  binary: 'claude',
  installed: true,
  resolved_path: '/usr/bin/claude',
  version: '1.0',
  env_keys: [],
  env_missing: [],
  supports_one_shot: true,
  supports_full_access: true,
  ...over,
});

test('submit form: one-shot providers only; batch splits lines; values checked; full access only where supported', () => {
  assert.deepEqual(
    m.oneShotProviders([provider(), provider({ id: 'shell', supports_one_shot: false })]).map((p) => p.id),
    ['claude'],
  );
  const form = {
    cli_tool: 'claude',
    prompt: '  first  \n\nsecond\r\n  ',
    batch: true,
    working_directory: '/repo',
    priority: '70',
    timeout_s: '30',
    full_access: true,
  };
  const built = m.buildTaskRequests(form, provider());
  assert.ok('requests' in built);
  assert.deepEqual(
    built.requests.map((r) => r.prompt),
    ['first', 'second'],
  );
  assert.deepEqual(built.requests[0], {
    cli_tool: 'claude',
    prompt: 'first',
    priority: 70,
    timeout_s: 30,
    mode: 'async',
    full_access: true,
    working_directory: '/repo',
  });
  // Not batch: the prompt is kept whole, newlines included.
  const single = m.buildTaskRequests({ ...form, batch: false }, provider({ supports_full_access: false }));
  assert.ok('requests' in single);
  assert.equal(single.requests.length, 1);
  assert.equal(single.requests[0]?.prompt, form.prompt);
  assert.equal(single.requests[0]?.full_access, false);
  const bad = (over: Partial<typeof form>) => {
    const r = m.buildTaskRequests({ ...form, ...over }, provider());
    return 'error' in r ? r.error : '';
  };
  assert.match(bad({ prompt: ' \n ' }), /prompt/);
  assert.match(bad({ priority: '101' }), /Priority/);
  assert.match(bad({ priority: '2.5' }), /Priority/);
  assert.match(bad({ timeout_s: '0' }), /Timeout/);
  assert.match(bad({ timeout_s: 'abc' }), /Timeout/);
  assert.match(bad({ working_directory: 'relative/dir' }), /absolute/);
  assert.match(bad({ cli_tool: '' }), /provider/);
  const noDir = m.buildTaskRequests({ ...form, working_directory: '  ' }, provider());
  assert.ok('requests' in noDir && !('working_directory' in noDir.requests[0]!));
});

test('formatting: durations, cost, counts, percentages, elapsed and prompt titles', () => {
  assert.equal(m.formatDuration(null), '—');
  assert.equal(m.formatDuration(235), '235 ms');
  assert.equal(m.formatDuration(1500), '1.50 s');
  assert.equal(m.formatDuration(12_340), '12.3 s');
  assert.equal(m.formatDuration(125_000), '2 min 5 s');
  assert.equal(m.formatDuration(2 * 3600_000 + 60_000), '2 h 1 min');
  assert.equal(m.formatCost(0.0123), '$0.0123');
  assert.equal(m.formatCost(12.5), '$12.50');
  assert.equal(m.formatCost(0), '$0');
  assert.equal(m.formatCost(null), '—');
  assert.equal(m.formatCount(1234567), '1,234,567');
  assert.equal(m.formatPercent(1), '100%');
  assert.equal(m.formatPercent(2 / 3), '66.7%');
  assert.equal(m.formatPercent(null), '—');
  const t = task({ task_id: 'x', state: 'running', started_at: '2026-01-01T00:00:00.000Z' });
  assert.equal(m.taskElapsed(t, Date.parse('2026-01-01T00:00:03.000Z')), 3000);
  assert.equal(m.taskElapsed({ ...t, duration_ms: 42 }, Date.now()), 42);
  assert.equal(m.taskElapsed(task({ task_id: 'y' }), Date.now()), null);
  assert.equal(m.promptTitle('line one\nline two'), 'line one');
  assert.equal(m.promptTitle('x'.repeat(100), 10), `${'x'.repeat(9)}…`);
  assert.equal(m.promptTitle('  \n'), '(empty prompt)');
});
