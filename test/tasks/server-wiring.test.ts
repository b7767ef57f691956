import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTaskService } from '../../src-main/core/tasks/task-service.ts';
import { tasksRouteModule } from '../../src-main/server/routes/tasks.ts';
import { startTestServer } from '../server/harness.ts';
import { fakeProvider, fakeRegistry, openTaskDb, tempEnv, waitFor } from './helpers.ts';

test('the route module behind the real server: scopes, token subject as user, 202/200/429, detail', async (t) => {
  const env = tempEnv();
  const opened = openTaskDb(env.dbPath);
  const service = createTaskService({
    db: opened.db,
    providers: fakeRegistry([fakeProvider('fake')]),
    workerId: 'w-server',
    limits: { per_user_per_hour: 3 },
    env: { ...process.env, FAKE_AGENT_LOG: env.log },
  });
  t.after(async () => {
    await service.shutdown({ requeue: false });
    opened.close();
    env.cleanup();
  });
  const srv = await startTestServer(t, { routes: [tasksRouteModule(service, { maxSyncWaitMs: 20_000 })] });

  const read = await srv.token('read');
  const denied = await srv.api('POST', '/tasks', { token: read, body: { cli_tool: 'fake', prompt: 'ok' } });
  assert.equal(denied.status, 403, 'submitting needs the control scope');
  assert.equal((await srv.api('GET', '/tasks', { token: '' })).status, 401);

  const sync = await srv.api('POST', '/tasks', {
    body: { cli_tool: 'fake', prompt: 'ok wired', mode: 'sync' },
  });
  assert.equal(sync.status, 200, sync.text);
  assert.equal(sync.body.task.state, 'passed');
  assert.equal(sync.body.task.user_id, 'local', 'the token subject, not the body, names the user');

  const async = await srv.api('POST', '/tasks', {
    body: { cli_tool: 'fake', prompt: 'ok a', user_id: 'someone-else' },
  });
  assert.equal(async.status, 202);
  assert.equal(async.body.task.user_id, 'local');
  const detail = await waitFor(async () => {
    const r = await srv.api('GET', `/tasks/${async.body.task_id}`, { token: read });
    return r.body.task.state === 'passed' && r;
  }, 'passed');
  assert.ok(detail.body.history.length >= 5);

  await srv.api('POST', '/tasks', { body: { cli_tool: 'fake', prompt: 'ok b' } });
  const limited = await srv.api('POST', '/tasks', { body: { cli_tool: 'fake', prompt: 'ok c' } });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);

  const metrics = await srv.api('GET', '/tasks/metrics', { token: read });
  assert.equal(metrics.status, 200);
  assert.ok(metrics.body.counts.passed >= 2);
  const wrongType = await srv.api('POST', '/tasks', { body: 'x', headers: { 'content-type': 'text/plain' } });
  assert.equal(wrongType.status, 415, wrongType.text);
});
