import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type DashboardServer, startDashboardServer } from '../../e2e/dashboard/helpers/server.ts';
import type { AutoDevApi, TerminalAttachment } from '../../src-shared/api.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import type { LiveEvent, SnapshotMessageData } from '../../src-shared/ws-protocol.ts';
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

before(async () => {
  server = await startDashboardServer();
  // Node sends no Origin, so the server wants the token before the upgrade (browsers use the auth message).
  api = new RemoteApi({ baseUrl: server.url, token: await server.token('control'), wsAuth: 'subprotocol' });
});

after(async () => {
  api?.dispose();
  await server?.stop();
});

async function until<T>(
  what: string,
  fn: () => T | undefined | null | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A recording terminal: what a view would have written, in order. */
function recorder() {
  const chunks: { seq: number; data: string }[] = [];
  const snapshots: SnapshotMessageData[] = [];
  const statuses: SessionInfo[] = [];
  const errors: string[] = [];
  const states: string[] = [];
  let acks = 0;
  return {
    chunks,
    snapshots,
    statuses,
    errors,
    states,
    get acks() {
      return acks;
    },
    text: () => snapshots.map((s) => s.screen).join('') + chunks.map((c) => c.data).join(''),
    handlers: {
      onOutput(seq: number, data: string, parsed: () => void) {
        chunks.push({ seq, data });
        acks += 1;
        parsed();
      },
      onSnapshot(s: SnapshotMessageData) {
        snapshots.push(s);
      },
      onStatus(s: SessionInfo) {
        statuses.push(s);
      },
      onError(e: { error: string; error_code: string }) {
        errors.push(`${e.error_code}: ${e.error}`);
      },
      onConnectionChange(state: string) {
        states.push(state);
      },
    },
  };
}

test('whoami, providers and the session list over REST', async () => {
  const me = await api.whoami();
  assert.equal(me.scope, 'control');
  assert.equal(me.mode, 'dashboard');
  const providers = await api.listProviders();
  assert.ok(providers.some((p) => p.id === 'shell' && p.installed));
  assert.ok(providers.some((p) => p.id === 'claude'));
  const page = await api.listSessions({ limit: 10 });
  assert.ok(Array.isArray(page.items));
  assert.equal(page.limit, 10);
});

test('create, attach, type, reattach from last seq without duplicates, rename, inspect, terminate', async () => {
  const events: LiveEvent[] = [];
  const off = api.onEvent((e) => events.push(e));
  const session = await api.createSession({
    cli_tool: 'shell',
    name: 'remote-contract',
    cols: 100,
    rows: 30,
  });
  assert.equal(session.cli_tool, 'shell');
  await until('created event', () =>
    events.find((e) => e.kind === 'session_created' && e.session.session_id === session.session_id),
  );

  const first = recorder();
  let attachment: TerminalAttachment = api.attach(session.session_id, first.handlers);
  await until('prompt', () => /[$#] ?$/m.test(first.text()));
  attachment.resize(90, 25);
  attachment.input('echo remote-$((40+2))\r');
  await until('command output', () => /^remote-42\r?$/m.test(first.text()));
  assert.deepEqual(first.states.slice(0, 2), ['connecting', 'open']);
  const seqs = first.chunks.map((c) => c.seq);
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1] ?? 0) + 1, 'contiguous seqs');
  const lastSeq = seqs.at(-1) ?? first.snapshots.at(-1)?.seq ?? 0;
  assert.ok(lastSeq > 0);
  attachment.detach();

  // Reconnect as a reloaded view would: nothing at or below lastSeq comes again.
  const second = recorder();
  attachment = api.attach(session.session_id, second.handlers, { lastSeq });
  attachment.command('echo again-$((1+1))');
  await until('second output', () => /^again-2\r?$/m.test(second.text()));
  assert.ok(
    second.chunks.every((c) => c.seq > lastSeq),
    `replayed old output: ${second.chunks.map((c) => c.seq)}`,
  );
  assert.equal(second.snapshots.length, 0, 'a recent gap is replayed, not snapshotted');
  assert.doesNotMatch(second.text(), /remote-42/);
  assert.ok(second.acks > 0, 'every chunk was acknowledged after parse');

  const renamed = await api.renameSession(session.session_id, 'renamed-contract');
  assert.equal(renamed.name, 'renamed-contract');
  const diag = await api.getDiagnostics(session.session_id);
  assert.equal(diag.session.session_id, session.session_id);
  assert.ok(diag.limits);
  const got = await api.getSession(session.session_id);
  assert.equal(got.cols, 90, 'resize reached the PTY');

  await api.terminateSession(session.session_id);
  await until('exit event', () =>
    events.find(
      (e) =>
        (e.kind === 'session_exited' || e.kind === 'session_state') &&
        e.session.session_id === session.session_id &&
        (e.session.state === 'terminated' || e.session.state === 'completed'),
    ),
  );
  attachment.detach();
  off();

  const commands = await api.getHistory(session.session_id, { message_type: 'command' });
  assert.ok(commands.some((h) => h.message_type === 'command' && /again/.test(h.command)));
  const text = await api.exportSession(session.session_id, 'text');
  assert.match(text, /remote-42/);
  const hits = await api.search({ q: 'again' });
  assert.ok(hits.some((h) => h.session_id === session.session_id));
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

test('a read token may watch but its input is refused by the server', async () => {
  const reader = new RemoteApi({
    baseUrl: server.url,
    token: await server.token('read'),
    wsAuth: 'subprotocol',
  });
  try {
    assert.equal((await reader.whoami()).scope, 'read');
    await assert.rejects(reader.createSession({ cli_tool: 'shell' }), (e: Error & { status?: number }) => {
      assert.equal(e.status, 403);
      return true;
    });
    const session = await api.createSession({ cli_tool: 'shell', name: 'watched' });
    const view = recorder();
    const attachment = reader.attach(session.session_id, view.handlers);
    await until('reader sees the prompt', () => /[$#] ?$/m.test(view.text()));
    attachment.input('echo should-not-run\r');
    await until('input refused', () => view.errors.find((e) => /FORBIDDEN|scope|read/i.test(e)));
    attachment.detach();
    await api.terminateSession(session.session_id);
  } finally {
    reader.dispose();
  }
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
