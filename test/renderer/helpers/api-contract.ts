import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AutoDevApi, TerminalAttachment } from '../../../src-shared/api.ts';
import type { SessionInfo } from '../../../src-shared/session.ts';
import type { LiveEvent, SnapshotMessageData } from '../../../src-shared/ws-protocol.ts';

/**
 * The AutoDevApi contract, transport-agnostic: the dashboard's RemoteApi runs it against `autodev
 * serve` (test/renderer/remote-api.test.ts); the desktop's IPC bridge can run the same suite by
 * passing its own `control` and `read` APIs. Needs a `shell` provider and persistence (history,
 * search, export).
 */
export interface ContractApis {
  control: AutoDevApi;
  read: AutoDevApi;
}

export async function until<T>(
  what: string,
  fn: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A recording terminal: what a view would have written, in order. */
export function recorder() {
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
    // A fresh view starts from the serialized screen (escape sequences around the text): read the text.
    text: () =>
      (snapshots.map((s) => s.screen).join('') + chunks.map((c) => c.data).join('')).replace(
        /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]/g,
        '',
      ),
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

export function defineApiContract(apis: () => ContractApis): void {
  test('whoami, providers and the session list', async () => {
    const { control: api } = apis();
    const me = await api.whoami();
    assert.equal(me.scope, 'control');
    assert.ok(me.mode === (api.transport === 'remote' ? 'dashboard' : 'desktop'), me.mode);
    const providers = await api.listProviders();
    assert.ok(providers.some((p) => p.id === 'shell' && p.installed));
    assert.ok(providers.some((p) => p.id === 'claude'));
    const page = await api.listSessions({ limit: 10 });
    assert.ok(Array.isArray(page.items));
    assert.equal(page.limit, 10);
  });

  test('create, attach, type, reattach from last seq without duplicates, rename, inspect, terminate', async () => {
    const { control: api } = apis();
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

  test('read scope may watch, but creating and typing are refused', async () => {
    const { control: api, read: reader } = apis();
    assert.equal((await reader.whoami()).scope, 'read');
    await assert.rejects(
      reader.createSession({ cli_tool: 'shell' }),
      (e: Error & { status?: number; code?: string; error_code?: string }) => {
        assert.ok(e.status === 403 || (e.code ?? e.error_code) === 'FORBIDDEN', String(e));
        return true;
      },
    );
    const session = await api.createSession({ cli_tool: 'shell', name: 'watched' });
    const view = recorder();
    const attachment = reader.attach(session.session_id, view.handlers);
    await until('reader sees the prompt', () => /[$#] ?$/m.test(view.text()));
    attachment.input('echo should-not-run\r');
    await until('input refused', () => view.errors.find((e) => /FORBIDDEN|scope|read/i.test(e)));
    attachment.detach();
    await api.terminateSession(session.session_id);
  });
}
