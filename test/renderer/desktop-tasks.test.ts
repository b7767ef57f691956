import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ONESHOT_AGENT } from '../../e2e/dashboard/helpers/server.ts';
import type { AutoDevApi } from '../../src-shared/api.ts';
import type { AutoDevDesktopBridge } from '../../src-shared/ipc.ts';
import type { TaskInfo } from '../../src-shared/tasks.ts';
import { connectWindow, waitFor } from '../electron/bridge-harness.ts';
import { buildPreload } from '../electron/helpers.ts';
import { openRealDesktop } from '../electron/real-desktop.ts';
import { loadRenderer } from './helpers/renderer.ts';

/**
 * The renderer's desktop transport (src-renderer/src/api/ipc.ts over the bundled preload) against the
 * real desktop core with its real TaskService: submit, live `task` events, detail, metrics, cancel.
 */
const { createIpcApi } = await loadRenderer<{
  createIpcApi(bridge: AutoDevDesktopBridge): { api: AutoDevApi };
}>('api/ipc.ts');

let bundle: { file: string; dir: string };
before(() => {
  bundle = buildPreload();
});
after(() => rmSync(bundle.dir, { recursive: true, force: true }));

test('desktop IPC: tasks run on the real core; events, detail, metrics and cancel reach the renderer API', async (t) => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'autodev-desktop-tasks-'));
  writeFileSync(
    path.join(dataDir, 'providers.yaml'),
    `providers:
  oneshot:
    name: Fake One-shot
    binary: ${JSON.stringify(process.execPath)}
    one_shot:
      args: [${JSON.stringify(ONESHOT_AGENT)}]
      prompt: { via: arg }
      output: stream-json
`,
  );
  writeFileSync(
    path.join(dataDir, 'config.yaml'),
    `providers_file: ${JSON.stringify(path.join(dataDir, 'providers.yaml'))}\n`,
  );
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: dataDir, LANG: 'C.UTF-8' };
  const { core, harness: h, shutdown } = await openRealDesktop(dataDir, env);
  assert.ok(core.tasks, 'the desktop core exposes the task service');
  t.after(async () => {
    await shutdown();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const win = connectWindow(h.controller, h.ipcMain, bundle.file, { webContentsId: 1 });
  const { api } = createIpcApi(win.api);
  const seen = new Map<string, TaskInfo[]>();
  api.onEvent((event) => {
    if (event.kind !== 'task') return;
    const task = event.task as TaskInfo;
    seen.set(task.task_id, [...(seen.get(task.task_id) ?? []), task]);
  });

  const [ok, hang] = await api.submitTasks([
    { cli_tool: 'oneshot', prompt: 'ok:100 desk' },
    { cli_tool: 'oneshot', prompt: 'hang' },
  ]);
  assert.ok(ok && hang);
  assert.equal(ok.state, 'queued');
  await waitFor(
    'the ok task passes (live events)',
    () => seen.get(ok.task_id)?.some((x) => x.state === 'passed'),
    30_000,
  );
  const states = seen.get(ok.task_id)!.map((x) => x.state);
  assert.ok(states.indexOf('running') < states.indexOf('passed'), states.join(' → '));

  const detail = await api.getTaskDetail(ok.task_id);
  assert.equal(detail.task.result_text, 'done desk');
  assert.equal(detail.task.usage.cost_usd, 0.0123);
  assert.deepEqual(
    detail.history.map((x) => x.state_to),
    ['queued', 'starting', 'running', 'completing', 'passed'],
  );
  assert.ok(detail.outputs.some((o) => o.event_type === 'result'));
  assert.equal((await api.getTask(ok.task_id)).state, 'passed');

  await waitFor(
    'the hanging task runs',
    () => seen.get(hang.task_id)?.some((x) => x.state === 'running'),
    30_000,
  );
  const cancelled = await api.controlTask(hang.task_id, 'cancel');
  assert.equal(cancelled.state, 'cancelled');

  const metrics = await api.getTaskMetrics();
  assert.equal(metrics.counts.passed, 1);
  assert.equal(metrics.counts.cancelled, 1);
  assert.equal(metrics.providers.find((p) => p.cli_tool === 'oneshot')?.input_tokens, 100);

  const page = await api.listTasks({ limit: 10 });
  assert.equal(page.total, 2);
  await assert.rejects(
    api.getTaskDetail('task-missing'),
    (e: Error & { code?: string; error_code?: string }) => {
      assert.match(`${e.code ?? e.error_code ?? ''} ${e.message}`, /NOT_FOUND|not found/);
      return true;
    },
  );
});
