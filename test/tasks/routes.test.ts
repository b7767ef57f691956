import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { createTaskService } from '../../src-main/core/tasks/task-service.ts';
import { createTaskRoutes, type TaskRouteHelpers } from '../../src-main/server/routes/tasks.ts';
import { fakeProvider, fakeRegistry, openTaskDb, tempEnv, waitFor } from './helpers.ts';

/** A bare node:http server dispatching to the task routes, as the server helper's router would. */
async function startApi(t: import('node:test').TestContext) {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  const service = createTaskService({
    db: opened.db,
    providers: fakeRegistry([fakeProvider('fake')]),
    workerId: 'w-routes',
    limits: { per_user_per_hour: 5 },
    env: { ...process.env, FAKE_AGENT_LOG: env.log },
  });
  const helpers: TaskRouteHelpers = {
    userId: (req) => (req.headers['x-user'] as string | undefined) ?? null,
    async readJson(req) {
      let text = '';
      for await (const chunk of req) text += chunk;
      return JSON.parse(text);
    },
    sendJson(res, status, body, headers) {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    },
  };
  const routes = createTaskRoutes(service, helpers, { maxSyncWaitMs: 20_000 });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    for (const route of routes) {
      const names: string[] = [];
      const re = new RegExp(
        `^${route.path.replace(/:(\w+)/g, (_m, n: string) => {
          names.push(n);
          return '([^/]+)';
        })}$`,
      );
      const m = re.exec(url.pathname);
      if (!m || route.method !== req.method) continue;
      const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
      void route.handler(req, res, params);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.after(async () => {
    await new Promise((r) => server.close(r));
    await service.shutdown({ requeue: false });
    opened.close();
    env.cleanup();
  });
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
  };
  return { call, routes, service };
}

test('POST /tasks async answers 202 with the id; GET /tasks/{id} returns task, history and outputs', async (t) => {
  const { call } = await startApi(t);
  const created = await call('POST', '/tasks', { cli_tool: 'fake', prompt: 'ok via-rest', mode: 'async' });
  assert.equal(created.status, 202);
  const id = created.body.task_id as string;
  assert.match(id, /^task-/);
  const detail = await waitFor(async () => {
    const r = await call('GET', `/tasks/${id}`);
    return (r.body.task as { state: string }).state === 'passed' && r;
  }, 'task passed');
  assert.equal((detail.body.task as { result_text: string }).result_text, 'done via-rest');
  assert.ok((detail.body.history as unknown[]).length >= 5);
  assert.ok((detail.body.outputs as unknown[]).length >= 3);
  const list = await call('GET', '/tasks?state=passed&limit=10');
  assert.equal(list.status, 200);
  assert.equal(list.body.total, 1);
});

test('sync mode answers 200 with the final task; batches answer every task', async (t) => {
  const { call } = await startApi(t);
  const sync = await call('POST', '/tasks', { cli_tool: 'fake', prompt: 'ok s', mode: 'sync' });
  assert.equal(sync.status, 200);
  assert.equal((sync.body.task as { state: string }).state, 'passed');
  const slow = await call('POST', '/tasks?wait_ms=200', {
    cli_tool: 'fake',
    prompt: 'tick:2000',
    mode: 'sync',
  });
  assert.equal(slow.status, 202, 'past the wait the id comes back instead');
  assert.ok(slow.body.task_id);
  const batch = await call('POST', '/tasks', {
    tasks: [
      { cli_tool: 'fake', prompt: 'ok b1' },
      { cli_tool: 'fake', prompt: 'ok b2' },
    ],
  });
  assert.equal(batch.status, 202);
  assert.equal((batch.body.tasks as unknown[]).length, 2);
});

test('errors: validation 400 with details, unknown provider, bad id, 404, 409, 429 with Retry-After', async (t) => {
  const { call } = await startApi(t);
  const invalid = await call('POST', '/tasks', { cli_tool: 'fake', prompt: '', priority: 500 });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.body.error_code, 'VALIDATION_ERROR');
  assert.ok((invalid.body.details as unknown[]).length >= 1);
  assert.equal((await call('POST', '/tasks', '{not json')).status, 400);
  const relative = await call('POST', '/tasks', {
    cli_tool: 'fake',
    prompt: 'x',
    working_directory: '../etc',
  });
  assert.equal(relative.status, 400);
  assert.match(relative.body.error as string, /absolute path/);
  const unknown = await call('POST', '/tasks', { cli_tool: 'nope', prompt: 'x' });
  assert.equal(unknown.status, 400);
  assert.equal(unknown.body.error_code, 'PROVIDER_UNKNOWN');
  assert.equal((await call('GET', '/tasks/task-missing')).status, 404);
  assert.equal((await call('GET', `/tasks/${encodeURIComponent('$(id)')}`)).status, 400);

  const done = await call(
    'POST',
    '/tasks',
    { cli_tool: 'fake', prompt: 'ok', mode: 'sync' },
    { 'x-user': 'carol' },
  );
  assert.equal((done.body.task as { user_id: string }).user_id, 'carol', 'caller identity wins');
  const conflict = await call('POST', `/tasks/${done.body.task_id as string}/cancel`);
  assert.equal(conflict.status, 409);
  assert.equal(conflict.body.error_code, 'CONFLICT');

  for (let i = 0; i < 4; i++) {
    const r = await call(
      'POST',
      '/tasks',
      { cli_tool: 'fake', prompt: 'ok', user_id: 'mallory' },
      { 'x-user': 'carol' },
    );
    assert.equal(r.status, 202);
  }
  const limited = await call('POST', '/tasks', { cli_tool: 'fake', prompt: 'ok' }, { 'x-user': 'carol' });
  assert.equal(limited.status, 429);
  assert.equal(limited.body.error_code, 'RATE_LIMITED');
  const retryAfter = Number(limited.headers.get('retry-after'));
  assert.ok(retryAfter > 0 && retryAfter <= 3600);
  assert.equal(limited.body.retry_after_s, retryAfter);
});

test('cancel, pause and resume over REST; metrics endpoint', async (t) => {
  const { call } = await startApi(t);
  const created = await call('POST', '/tasks', { cli_tool: 'fake', prompt: 'tick:5000' });
  const id = created.body.task_id as string;
  await waitFor(
    async () => ((await call('GET', `/tasks/${id}`)).body.task as { state: string }).state === 'running',
    'running',
  );
  const paused = await call('POST', `/tasks/${id}/pause`);
  assert.equal(paused.status, 200);
  assert.equal((paused.body.task as { state: string }).state, 'paused');
  const resumed = await call('POST', `/tasks/${id}/resume`);
  assert.equal((resumed.body.task as { state: string }).state, 'running');
  const cancelled = await call('POST', `/tasks/${id}/cancel`);
  assert.equal((cancelled.body.task as { state: string }).state, 'cancelled');
  const metrics = await call('GET', '/tasks/metrics');
  assert.equal(metrics.status, 200);
  assert.equal((metrics.body.counts as Record<string, number>).cancelled, 1);
});
