import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import type { ProviderSummary } from '../../src-shared/rest.ts';
import {
  TASK_STATES,
  type TaskDetail,
  type TaskInfo,
  type TaskMetrics,
  type TaskState,
} from '../../src-shared/tasks.ts';
import { loadRenderer } from './helpers/renderer.ts';
import { task } from './helpers/task.ts';

// biome-ignore lint/suspicious/noExplicitAny: components are loaded through a computed import (see helpers/tsx.ts)
type Component = (props: any) => unknown;
const { TaskMetricsCharts } = await loadRenderer<{ TaskMetricsCharts: Component }>(
  'components/TaskMetricsCharts.tsx',
);
const { TaskDetailPanel } = await loadRenderer<{ TaskDetailPanel: Component }>(
  'components/TaskDetailPanel.tsx',
);
const { TaskSubmitForm } = await loadRenderer<{ TaskSubmitForm: Component }>('components/TaskSubmitForm.tsx');
const { TaskStateBadge } = await loadRenderer<{ TaskStateBadge: Component }>('components/TaskStateBadge.tsx');

const render = (c: Component, props: object) => renderToString(h(c as never, props as never));
const decode = (html: string) =>
  html
    .replace(/&#x27;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/<!-- -->/g, '');

const counts = (over: Partial<Record<TaskState, number>>) =>
  Object.fromEntries(TASK_STATES.map((s) => [s, over[s] ?? 0])) as Record<TaskState, number>;

const metrics: TaskMetrics = {
  counts: counts({ passed: 3, failed: 1, cancelled: 1, running: 1 }),
  total: 6,
  success_rate: 0.75,
  duration_ms: { count: 4, p50: 235, p95: 1500, p99: 1500 },
  input_tokens: 300,
  output_tokens: 60,
  cache_read_tokens: 15,
  cost_usd: 0.0369,
  providers: [
    {
      cli_tool: 'oneshot',
      counts: counts({ passed: 3, failed: 1, cancelled: 1, running: 1 }),
      success_rate: 0.75,
      duration_ms: { count: 4, p50: 235, p95: 1500, p99: 1500 },
      input_tokens: 300,
      output_tokens: 60,
      cache_read_tokens: 15,
      cost_usd: 0.0369,
    },
  ],
};

test('metrics charts: accessible SVGs (title + description with every number) and the numbers as text', () => {
  const html = decode(render(TaskMetricsCharts, { metrics, error: null }));
  const svgs = html.match(/<svg[^>]*role="img"[^>]*>/g) ?? [];
  assert.equal(svgs.length, 4, 'states, success, durations, usage');
  for (const svg of svgs) assert.match(svg, /aria-labelledby="[^"]+ [^"]+"/);
  assert.match(html, /<title[^>]*>Tasks by state<\/title>/);
  assert.match(
    html,
    /<desc[^>]*>Queued: 0; Starting: 0; Running: 1; Paused: 0; Completing: 0; Passed: 3; Failed: 1;/,
  );
  assert.match(html, /data-label="Passed" data-value="3"/);
  assert.match(html, /<desc[^>]*>oneshot p50: 235 ms; oneshot p95: 1.50 s; oneshot p99: 1.50 s<\/desc>/);
  assert.match(html, /<desc[^>]*>oneshot: 375 tok · \$0.0369<\/desc>/);
  assert.match(html, /Success rate 75.0%/);
  assert.match(html, /data-metric="total">6</);
  assert.match(html, /data-metric="success-rate">75.0%</);
  assert.match(html, /data-metric="cost">\$0.0369</);
  assert.match(html, /data-metric="tokens"[^>]*>300 \/ 60 \/ 15</);
  // The visible value column repeats the numbers next to the bars.
  assert.match(html, /class="chart-value">3<\/text>/);
});

test('metrics charts: empty data and errors are said in words', () => {
  const empty: TaskMetrics = {
    ...metrics,
    counts: counts({}),
    total: 0,
    success_rate: null,
    duration_ms: { count: 0, p50: null, p95: null, p99: null },
    input_tokens: 0,
    output_tokens: 0,
    cache_read_tokens: 0,
    cost_usd: 0,
    providers: [],
  };
  const html = decode(render(TaskMetricsCharts, { metrics: empty, error: null }));
  assert.match(html, /No finished runs yet/);
  assert.match(html, /no decided tasks yet/);
  assert.match(
    render(TaskMetricsCharts, { metrics: null, error: 'boom' }),
    /role="alert"[^>]*>Could not load task metrics: .*boom/,
  );
});

const detail = (state: TaskState): TaskDetail => {
  const t = task({
    task_id: 'task-1',
    state,
    prompt: 'ok alpha\nsecond line',
    attempts: 1,
    started_at: '2026-01-01T00:00:00.000Z',
    ended_at: '2026-01-01T00:00:00.235Z',
    duration_ms: 235,
    result_text: 'done alpha',
    exit_code: 0,
    usage: { input_tokens: 100, output_tokens: 20, cache_read_tokens: 5, cost_usd: 0.0123 },
  });
  return {
    task: t,
    history: [
      {
        state_from: null,
        state_to: 'queued',
        reason: 'submitted',
        attempt: 0,
        worker_id: null,
        at: t.created_at,
      },
      {
        state_from: 'queued',
        state_to: 'starting',
        reason: 'claimed by vm:1',
        attempt: 1,
        worker_id: 'vm:1',
        at: t.created_at,
      },
    ],
    outputs: [
      {
        attempt: 1,
        seq: 1,
        stream: 'stdout',
        kind: 'event',
        event_type: 'system',
        content: '{"type":"system"}',
        at: t.created_at,
      },
      {
        attempt: 1,
        seq: 2,
        stream: 'stdout',
        kind: 'raw',
        event_type: null,
        content: 'not json',
        at: t.created_at,
      },
    ],
  };
};

test('task detail: result, usage, cost, duration, history with reasons, outputs; controls only for control scope', () => {
  const d = detail('passed');
  const html = decode(
    render(TaskDetailPanel, {
      task: d.task,
      detail: d,
      error: null,
      readOnly: false,
      now: 0,
      onAction() {},
      onClose() {},
    }),
  );
  assert.match(html, /data-field="result">done alpha</);
  assert.match(html, /data-field="cost">\$0.0123</);
  assert.match(html, /data-field="tokens">100 in · 20 out · 5 cache</);
  assert.match(html, /data-field="duration">235 ms/);
  assert.match(html, /queued → starting<\/span> <span>claimed by vm:1<\/span>/);
  assert.match(html, /stdout:system/);
  assert.match(html, /\(raw\)/);
  assert.doesNotMatch(html, />Cancel</, 'a finished task has no controls');

  const running = detail('running');
  running.task.ended_at = null;
  running.task.duration_ms = null;
  const control = render(TaskDetailPanel, {
    task: running.task,
    detail: running,
    error: null,
    readOnly: false,
    now: Date.parse('2026-01-01T00:00:02Z'),
    onAction() {},
    onClose() {},
  });
  assert.match(control, /aria-label="Pause task ok alpha"/);
  assert.match(control, /aria-label="Cancel task ok alpha"/);
  assert.match(decode(control), /2.00 s so far/);
  const read = render(TaskDetailPanel, {
    task: running.task,
    detail: running,
    error: null,
    readOnly: true,
    now: 0,
    onAction() {},
    onClose() {},
  });
  assert.doesNotMatch(read, /Cancel task|Pause task|Resume task/);

  const failed = {
    ...d.task,
    state: 'error' as const,
    state_reason: 'claude is not installed or not on PATH',
    error: 'spawn failed: ENOENT',
    result_text: null,
  };
  const err = render(TaskDetailPanel, {
    task: failed,
    detail: null,
    error: null,
    readOnly: false,
    now: 0,
    onAction() {},
    onClose() {},
  });
  assert.match(err, /data-field="task-error">spawn failed: ENOENT</);
  assert.match(err, /data-field="no-result">No result: <!-- -->claude is not installed or not on PATH</);
  assert.doesNotMatch(err, /No result yet/, 'a finished task says what happened');

  // Finished without a result message: the reason the service recorded, not "No result yet".
  const silent = {
    ...d.task,
    state: 'passed' as const,
    state_reason: 'exited 0 without a result message; last output line: no changes needed',
    result_text: null,
  };
  const quiet = decode(
    render(TaskDetailPanel, {
      task: silent,
      detail: null,
      error: null,
      readOnly: false,
      now: 0,
      onAction() {},
      onClose() {},
    }),
  );
  assert.match(
    quiet,
    /No result: (<!-- -->)?exited 0 without a result message; last output line: no changes needed/,
  );
  assert.doesNotMatch(quiet, /No result yet/);
  const pending = render(TaskDetailPanel, {
    task: { ...running.task, result_text: null },
    detail: null,
    error: null,
    readOnly: false,
    now: 0,
    onAction() {},
    onClose() {},
  });
  assert.match(pending, /No result yet/, 'still running: the result may come');
});

test('task detail: the executor, and API runs say the CLI was missing', () => {
  const d = detail('passed');
  const html = (task: TaskInfo) =>
    render(TaskDetailPanel, {
      task,
      detail: null,
      error: null,
      readOnly: false,
      now: 0,
      onAction() {},
      onClose() {},
    });
  assert.match(
    html({ ...d.task, executor: 'api' }),
    /data-field="executor">API \(the CLI is not installed\)</,
  );
  assert.match(html({ ...d.task, executor: 'cli' }), /data-field="executor">CLI</);
  assert.doesNotMatch(html({ ...d.task, executor: null }), /data-field="executor"/);
});

const provider = (over: Partial<ProviderSummary>): ProviderSummary => ({
  id: 'claude',
  name: 'Claude',
  binary: 'claude',
  installed: true,
  resolved_path: '/usr/bin/claude',
  version: '2.0.1 (Claude Code)',
  env_keys: [],
  env_missing: [],
  supports_one_shot: true,
  supports_full_access: true,
  ...over,
});

test('submit form: lists only providers with a one-shot mode, with the full-access warning wired', () => {
  const html = decode(
    render(TaskSubmitForm, {
      providers: [provider({}), provider({ id: 'shell', name: 'Shell', supports_one_shot: false })],
      providersError: null,
      onSubmit: async () => [],
    }),
  );
  assert.match(html, /<option value="claude">Claude — installed \(2.0.1\)<\/option>/);
  assert.doesNotMatch(html, /value="shell"/);
  assert.match(html, /Batch: one prompt per line/);
  assert.match(html, /aria-describedby="task-full-access-warning"/);
  assert.match(html, /Priority \(0–100\)/);
  assert.match(html, /Timeout \(s\)/);
  const none = render(TaskSubmitForm, {
    providers: [provider({ supports_one_shot: false })],
    providersError: null,
    onSubmit: async () => [],
  });
  assert.match(none, /No provider has a one-shot mode/);
});

test('task state badge: text and state attribute, reason in the tooltip', () => {
  const html = render(TaskStateBadge, { state: 'timeout', reason: 'no output for 600 s' });
  assert.match(html, /data-task-state="timeout"/);
  assert.match(html, /badge-error/);
  assert.match(html, /title="Timed out: no output for 600 s"/);
  assert.match(html, />Timed out</);
});
