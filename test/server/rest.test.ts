import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { FINAL_STATES } from '../../src-shared/session.ts';
import { openViewer, startTestServer, until } from './harness.ts';

test('REST: every session route against the real manager and store', async (t) => {
  const ts = await startTestServer(t);

  // /health is public and reports persistence.
  const health = await ts.api('GET', '/health', { token: '' });
  assert.equal(health.status, 200);
  assert.equal(health.body.status, 'ok');
  assert.equal(health.body.persistence.ok, true);

  // Create: 201 with the seed fields, a websocket_url on this server, and the full session.
  const created = await ts.api('POST', '/cli/sessions', {
    body: { cli_tool: 'shell', cols: 90, rows: 25, metadata: { project: 'autodev' }, name: 'first' },
  });
  assert.equal(created.status, 201, created.text);
  const id = created.body.session_id as string;
  assert.match(id, /^[A-Za-z0-9_.:-]+$/);
  assert.equal(created.body.websocket_url, `${ts.server.wsUrl}/cli/session/${id}/ws`);
  assert.equal(typeof created.body.created_at, 'string');
  assert.equal(created.body.session.cli_tool, 'shell');
  assert.equal(created.body.session.name, 'first');
  assert.deepEqual(created.body.session.metadata, { project: 'autodev' });

  // Get.
  const got = await ts.api('GET', `/cli/sessions/${id}`);
  assert.equal(got.status, 200);
  for (const field of [
    'state',
    'pid',
    'created_at',
    'last_activity',
    'current_directory',
    'authentication_required',
    'auth_prompt',
    'command_history',
    'metadata',
    'exit_code',
    'state_reason',
  ]) {
    assert.ok(field in got.body, `GET session has ${field}`);
  }
  assert.ok(got.body.pid > 0);

  // Type a command over WS so history and search have something.
  const viewer = await openViewer(ts, id);
  // Trailing output pushes the marker past the stream redactor's held-back tail (~256 chars).
  viewer.send({ type: 'command', data: { command: 'echo rest-marker-$((6*7)); seq 1 300' } });
  await viewer.waitFor(() => viewer.output().text.includes('rest-marker-42'), 20_000, 'command output');
  viewer.close();

  // PATCH rename.
  const renamed = await ts.api('PATCH', `/cli/sessions/${id}`, { body: { name: 'renamed' } });
  assert.equal(renamed.status, 200, renamed.text);
  assert.equal(renamed.body.name, 'renamed');
  const badRename = await ts.api('PATCH', `/cli/sessions/${id}`, { body: { name: '' } });
  assert.equal(badRename.status, 400);
  assert.equal(badRename.body.error_code, 'VALIDATION_ERROR');
  assert.match(badRename.body.error, /name/);

  // List with filters.
  const list = await ts.api('GET', '/cli/sessions?status=active&cli_tool=shell&limit=10&offset=0');
  assert.equal(list.status, 200);
  assert.ok(list.body.items.some((s: { session_id: string }) => s.session_id === id));
  assert.equal(list.body.limit, 10);
  const none = await ts.api('GET', '/cli/sessions?cli_tool=codex');
  assert.equal(none.body.items.length, 0);

  // Diagnostics.
  const diag = await ts.api('GET', `/cli/sessions/${id}/diagnostics`);
  assert.equal(diag.status, 200);
  assert.equal(diag.body.session.session_id, id);
  assert.ok(
    'limits' in diag.body && 'recent_errors' in diag.body && 'output' in diag.body && 'recovery' in diag.body,
  );

  // History (commands are journaled before the PTY sees them).
  const history = await until(
    async () => {
      const h = await ts.api('GET', `/cli/sessions/${id}/history?limit=50&message_type=command`);
      return h.body?.length > 0 ? h : null;
    },
    20_000,
    'history',
  );
  assert.equal(history.status, 200);
  assert.ok(history.body.some((e: { command?: string }) => e.command?.includes('rest-marker')));
  const badHistory = await ts.api('GET', `/cli/sessions/${id}/history?limit=0`);
  assert.equal(badHistory.status, 400);
  assert.equal(badHistory.body.details[0].path, 'limit');

  // Search finds the output once persistence flushed it.
  const hits = await until(
    async () => {
      const s = await ts.api('GET', '/cli/search?q=rest-marker-42');
      return s.body?.length > 0 ? s : null;
    },
    20_000,
    'search hit',
  );
  assert.equal(hits.body[0].session_id, id);
  const badSearch = await ts.api('GET', '/cli/search');
  assert.equal(badSearch.status, 400);
  assert.match(badSearch.body.error, /q/);

  // Export as JSON and as text.
  const exportJson = await ts.api('GET', `/cli/sessions/${id}/export?format=json`);
  assert.equal(exportJson.status, 200);
  assert.match(exportJson.headers.get('content-type') ?? '', /application\/json/);
  const exportText = await ts.api('GET', `/cli/sessions/${id}/export?format=text`);
  assert.equal(exportText.status, 200);
  assert.match(exportText.text, /rest-marker/);
  assert.equal((await ts.api('GET', `/cli/sessions/${id}/export?format=pdf`)).status, 400);

  // Providers and whoami.
  const providers = await ts.api('GET', '/cli/providers');
  assert.equal(providers.status, 200);
  const shell = providers.body.find((p: { id: string }) => p.id === 'shell');
  assert.equal(shell.installed, true);
  const who = await ts.api('GET', '/whoami');
  assert.deepEqual([who.body.user_id, who.body.scope, who.body.mode], ['local', 'control', 'dashboard']);

  // Metrics: Prometheus text with our series.
  const metrics = await ts.api('GET', '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.text, /autodev_sessions\{state="(running|waiting_input|processing|starting)"\} 1/);
  assert.match(metrics.text, /autodev_ws_messages_in_total/);
  assert.match(metrics.text, /autodev_http_request_duration_seconds_bucket/);

  // Delete terminates; the session stays listed as ended.
  const deleted = await ts.api('DELETE', `/cli/sessions/${id}`);
  assert.equal(deleted.status, 200, deleted.text);
  assert.ok(FINAL_STATES.has(deleted.body.status), deleted.body.status);
  const ended = await ts.api('GET', '/cli/sessions?status=ended');
  assert.ok(ended.body.items.some((s: { session_id: string }) => s.session_id === id));
  assert.equal(ts.core.sessions.get(id)?.pid !== undefined, true);
});

test('REST: validation and error paths answer {error, error_code} with the field named', async (t) => {
  const ts = await startTestServer(t);
  const cases: [string, string, unknown, number, string, RegExp][] = [
    ['POST', '/cli/sessions', { cli_tool: 'Bad Tool!' }, 400, 'VALIDATION_ERROR', /cli_tool/],
    ['POST', '/cli/sessions', { cli_tool: 'shell', cols: 5000 }, 400, 'VALIDATION_ERROR', /cols/],
    ['POST', '/cli/sessions', { cli_tool: 'nonexistent' }, 400, 'PROVIDER_UNKNOWN', /cli_tool/],
    [
      'POST',
      '/cli/sessions',
      { cli_tool: 'shell', working_directory: '/does/not/exist' },
      400,
      'VALIDATION_ERROR',
      /working_directory/,
    ],
    ['POST', '/cli/sessions', '{not json', 400, 'MALFORMED_MESSAGE', /JSON/],
    ['GET', '/cli/sessions?limit=9999', undefined, 400, 'VALIDATION_ERROR', /limit/],
    ['GET', '/cli/sessions?status=bogus', undefined, 400, 'VALIDATION_ERROR', /status/],
    ['GET', '/cli/sessions/unknown-id', undefined, 404, 'NOT_FOUND', /unknown-id/],
    ['DELETE', '/cli/sessions/unknown-id', undefined, 404, 'NOT_FOUND', /not found/],
    ['GET', '/cli/nothing-here', undefined, 404, 'NOT_FOUND', /no route/],
    ['PUT', '/cli/sessions', undefined, 405, 'VALIDATION_ERROR', /not allowed/],
  ];
  for (const [method, url, body, status, code, pattern] of cases) {
    const res = await ts.api(method, url, body === undefined ? {} : { body });
    assert.equal(res.status, status, `${method} ${url}: ${res.text}`);
    assert.equal(res.body.error_code, code, `${method} ${url}`);
    assert.match(res.body.error, pattern, `${method} ${url}`);
  }
  // A cross-site form post (text/plain, urlencoded) can never create a session.
  const form = await ts.api('POST', '/cli/sessions', {
    body: 'cli_tool=shell',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(form.status, 415);
  assert.equal(ts.core.sessions.list().length, 0);

  // Working directory that exists is used.
  const dir = path.join(ts.dataDir, 'work');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'x'), '');
  const ok = await ts.api('POST', '/cli/sessions', { body: { cli_tool: 'shell', working_directory: dir } });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.session.current_directory, dir);
  assert.ok(existsSync(dir));
});
