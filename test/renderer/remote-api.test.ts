import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type DashboardServer, startDashboardServer } from '../../e2e/dashboard/helpers/server.ts';
import type { AutoDevApi } from '../../src-shared/api.ts';
import type { TaskInfo } from '../../src-shared/tasks.ts';
import type { LiveEvent } from '../../src-shared/ws-protocol.ts';
import { defineApiContract, recorder, until } from './helpers/api-contract.ts';
import { loadRenderer } from './helpers/renderer.ts';

// The dashboard transport (src-renderer/src/api/remote.ts) against a real `autodev serve`, driven from
// Node with its built-in fetch and WebSocket: the same AutoDevApi contract the desktop bridge implements.
type RemoteApi = AutoDevApi & {
  dispose(): void;
  onConnectionChange(listener: (state: string) => void): () => void;
};
const { RemoteApi } = await loadRenderer<{
  RemoteApi: new (options: {
    baseUrl: string;
    token: string;
    onUnauthorized?: (message: string) => void;
    wsAuth?: 'message' | 'subprotocol';
  }) => RemoteApi;
}>('api/remote.ts');

let server: DashboardServer;
let api: RemoteApi;
let reader: RemoteApi;

before(async () => {
  server = await startDashboardServer();
  // Node sends no Origin, so the server wants the token before the upgrade (browsers use the auth message).
  api = new RemoteApi({ baseUrl: server.url, token: await server.token('control'), wsAuth: 'subprotocol' });
  reader = new RemoteApi({ baseUrl: server.url, token: await server.token('read'), wsAuth: 'subprotocol' });
});

defineApiContract(() => ({ control: api, read: reader }));

after(async () => {
  api?.dispose();
  reader?.dispose();
  await server?.stop();
});

test('a refused token reports unauthorized once and fails with UNAUTHORIZED', async () => {
  const reasons: string[] = [];
  const forged = (await server.token('control')).replace(/\.[^.]+$/, '.AAAA');
  const bad = new RemoteApi({ baseUrl: server.url, token: forged, onUnauthorized: (m) => reasons.push(m) });
  await assert.rejects(bad.whoami(), (e: Error & { code?: string; status?: number }) => {
    assert.equal(e.status, 401);
    assert.equal(e.code, 'UNAUTHORIZED');
    return true;
  });
  await assert.rejects(bad.listSessions());
  assert.equal(reasons.length, 1);
  bad.dispose();
});

test('a dropped socket reconnects and resumes: queued input sent, missed output once, seqs contiguous', async () => {
  const sockets: WebSocket[] = [];
  class TrackedWebSocket extends WebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  const flaky = new (RemoteApi as unknown as new (o: object) => RemoteApi)({
    baseUrl: server.url,
    token: await server.token('control'),
    wsAuth: 'subprotocol',
    WebSocket: TrackedWebSocket,
  });
  const events: LiveEvent[] = [];
  const connection: string[] = [];
  flaky.onEvent((e) => events.push(e));
  flaky.onConnectionChange((s) => connection.push(s));
  try {
    const session = await api.createSession({ cli_tool: 'shell', name: 'flaky' });
    const view = recorder();
    const attachment = flaky.attach(session.session_id, view.handlers);
    await until('prompt', () => /[$#] ?$/m.test(view.text()));
    attachment.input('echo before-$((0+1))\r');
    await until('before', () => /^before-1\r?$/m.test(view.text()));

    // Drop the terminal socket; type while it is down (queued), and let another client print meanwhile.
    const live = sockets.filter((s) => s.url.includes('/cli/session/') && s.readyState === WebSocket.OPEN);
    assert.equal(live.length, 1);
    live[0]?.close(4000, 'test: network drop');
    attachment.input('echo queued-$((1+6))\r');
    const other = recorder();
    const typist = api.attach(session.session_id, other.handlers);
    typist.command('echo away-$((4+5))');
    await until('reconnected', () => view.states.filter((s) => s === 'open').length >= 2);
    await until(
      'missed and queued output',
      () => /^away-9\r?$/m.test(view.text()) && /^queued-7\r?$/m.test(view.text()),
    );
    assert.deepEqual(view.states.slice(0, 4), ['connecting', 'open', 'closed', 'connecting']);
    const text = view.text();
    assert.equal((text.match(/^away-9\r?$/gm) ?? []).length, 1, 'missed output exactly once');
    assert.equal((text.match(/^before-1\r?$/gm) ?? []).length, 1, 'nothing replayed twice');
    const seqs = view.chunks.map((c) => c.seq);
    assert.equal(new Set(seqs).size, seqs.length, 'no seq delivered twice');
    if (view.snapshots.length === 0)
      for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1] ?? 0) + 1, 'no gap');
    typist.detach();

    // The events channel: drop it, create a session meanwhile; the listener still learns about it.
    await until('events open', () => connection.includes('open'));
    for (const s of sockets.filter(
      (s) => s.url.endsWith('/cli/events/ws') && s.readyState === WebSocket.OPEN,
    ))
      s.close(4000, 'test: network drop');
    const created = await api.createSession({ cli_tool: 'shell', name: 'while-offline' });
    await until('event for the session created while offline', () =>
      events.find((e) => 'session' in e && e.session.session_id === created.session_id),
    );
    await until('events reconnected', () => connection.filter((s) => s === 'open').length >= 2);
    attachment.detach();
    await api.terminateSession(session.session_id);
    await api.terminateSession(created.session_id);
  } finally {
    flaky.dispose();
  }
});

test('tasks over REST: submit a batch, live task events, detail with history and outputs, metrics, controls, read scope', async () => {
  const events: TaskInfo[] = [];
  const off = api.onEvent((e) => {
    if (e.kind === 'task') events.push(e.task as TaskInfo);
  });
  try {
    const [ok, hang] = await api.submitTasks([
      { cli_tool: 'oneshot', prompt: 'ok:50 remote' },
      { cli_tool: 'oneshot', prompt: 'hang' },
    ]);
    assert.ok(ok && hang);
    assert.equal(ok.state, 'queued');
    await until('ok passed (event)', () =>
      events.some((t) => t.task_id === ok.task_id && t.state === 'passed'),
    );
    const detail = await api.getTaskDetail(ok.task_id);
    assert.equal(detail.task.result_text, 'done remote');
    assert.equal(detail.task.usage.output_tokens, 20);
    assert.equal(detail.history.at(-1)?.state_to, 'passed');
    assert.ok(detail.history.every((h) => typeof h.reason === 'string' && h.reason.length > 0));
    assert.ok(detail.outputs.length > 0);
    assert.equal((await api.getTask(ok.task_id)).state, 'passed');
    const listed = await api.listTasks({ state: 'passed' });
    assert.ok(listed.items.some((t) => t.task_id === ok.task_id));

    await until('hang running (event)', () =>
      events.some((t) => t.task_id === hang.task_id && t.state === 'running'),
    );
    // Read tokens watch but cannot act.
    await assert.rejects(reader.controlTask(hang.task_id, 'cancel'), (e: Error & { status?: number }) => {
      assert.equal(e.status, 403);
      return true;
    });
    await assert.rejects(reader.submitTasks([{ cli_tool: 'oneshot', prompt: 'ok' }]), /./);
    assert.equal((await reader.getTaskDetail(hang.task_id)).task.state, 'running');
    const cancelled = await api.controlTask(hang.task_id, 'cancel');
    assert.equal(cancelled.state, 'cancelled');
    await assert.rejects(api.controlTask(hang.task_id, 'resume'), (e: Error & { status?: number }) => {
      assert.equal(e.status, 409);
      return true;
    });

    const metrics = await reader.getTaskMetrics();
    assert.ok(metrics.counts.passed >= 1);
    assert.ok(metrics.counts.cancelled >= 1);
    assert.ok(metrics.cost_usd >= 0.0123);
    assert.ok(metrics.providers.some((p) => p.cli_tool === 'oneshot' && p.duration_ms.count >= 1));
  } finally {
    off();
  }
});

test('history raw=true keeps the ANSI sequences that the plain text strips', async () => {
  const session = await api.createSession({ cli_tool: 'shell', name: 'colours' });
  const view = recorder();
  const attachment = api.attach(session.session_id, view.handlers);
  await until('prompt', () => /[$#] ?$/m.test(view.text()));
  attachment.input("printf '\\033[31mRED-%s\\033[0m\\n' $((40+2))\r");
  await until('printed', () => /RED-42/.test(view.text()));
  attachment.detach();
  // The recorder keeps a live session's tail in its redaction buffer; ending the session flushes it.
  await api.terminateSession(session.session_id);
  const rows = async (raw: boolean) =>
    (
      await api.getHistory(session.session_id, {
        message_type: 'output',
        limit: 1000,
        ...(raw ? { raw } : {}),
      })
    )
      .map((e) => (e.message_type === 'output' ? e.output : ''))
      .join('');
  const raw = await until('stored raw output', async () => {
    const text = await rows(true);
    return /RED-42/.test(text) ? text : '';
  });
  assert.match(raw, /\u001b\[31mRED-42\u001b\[0m/);
  const plain = await rows(false);
  assert.match(plain, /RED-42/);
  assert.doesNotMatch(plain, /\u001b/);
});
