import type {
  ManagerLimits,
  OutputAttachment,
  OutputConsumer,
  SessionManager,
  SpawnRecord,
} from '../../src-main/core/sessions/types.ts';
import { createViewSizes, type ViewSizes } from '../../src-main/core/sessions/view-sizes.ts';
import { Emitter } from '../../src-main/core/util/event.ts';
import type { IpcInvokeEventLike, IpcMainLike } from '../../src-main/electron/ipc-router.ts';
import type { FrameLike } from '../../src-main/electron/sender-guard.ts';
import type { OutputChunk, SessionDiagnostics, SessionInfo } from '../../src-shared/session.ts';

/** ipcMain stand-in: records handlers and lets a test invoke them as a given frame would. */
export class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, (event: IpcInvokeEventLike, ...args: unknown[]) => unknown>();
  handle(channel: string, listener: (event: IpcInvokeEventLike, ...args: unknown[]) => unknown): void {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  async invoke(
    channel: string,
    frame: FrameLike | null,
    webContentsId: number,
    ...args: unknown[]
  ): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler({ senderFrame: frame, sender: { id: webContentsId } }, ...args);
  }
}

export function frame(
  url: string,
  extra: Partial<{ parent: unknown; detached: boolean; destroyed: boolean }> = {},
): FrameLike {
  return {
    url,
    parent: extra.parent ?? null,
    detached: extra.detached ?? false,
    isDestroyed: () => extra.destroyed ?? false,
  };
}

export const APP_FRAME = frame('app://bundle/index.html');

export function sessionInfo(overrides: Partial<SessionInfo> = {}): SessionInfo {
  const now = new Date().toISOString();
  return {
    session_id: 's1',
    name: 'Shell',
    cli_tool: 'shell',
    mode: 'interactive',
    full_access: false,
    user_id: 'local',
    state: 'running',
    state_reason: { source: 'lifecycle', detail: 'spawned', at: now },
    authentication_required: false,
    auth_prompt: null,
    pid: 1234,
    created_at: now,
    started_at: now,
    ended_at: null,
    last_activity: now,
    current_directory: '/tmp',
    exit_code: null,
    exit_signal: null,
    cols: 80,
    rows: 24,
    last_seq: 0,
    title: null,
    command_history: [],
    worktree: null,
    metadata: {},
    ...overrides,
  };
}

/** A SessionManager whose sessions are plain records: tests drive output and state by hand. */
export class FakeManager implements SessionManager {
  readonly sessions = new Map<string, SessionInfo>();
  readonly consumers: { sessionId: string; consumer: OutputConsumer; acked: number; disposed: boolean }[] =
    [];
  readonly calls: string[] = [];
  readonly ring = new Map<string, OutputChunk[]>();
  snapshotSeq = 0;
  readonly limits: ManagerLimits = {
    max_sessions: 20,
    terminate_grace_ms: 100,
    idle_timeout_s: null,
    max_run_time_s: null,
    max_memory_mb: null,
    max_cpu_percent: null,
    max_fds: null,
  };
  private readonly _create = new Emitter<SessionInfo>();
  private readonly _state = new Emitter<{ session: SessionInfo; previous: SessionInfo['state'] }>();
  private readonly _output = new Emitter<OutputChunk>();
  private readonly _exit = new Emitter<SessionInfo>();
  private readonly _remove = new Emitter<string>();
  private readonly _spawn = new Emitter<SpawnRecord>();
  readonly onDidCreate = this._create.event;
  readonly onDidChangeState = this._state.event;
  readonly onOutput = this._output.event;
  readonly onDidExit = this._exit.event;
  readonly onDidRemove = this._remove.event;
  private readonly _resize = new Emitter<SessionInfo>();
  readonly onDidResize = this._resize.event;
  readonly onDidSpawn = this._spawn.event;
  private _seq = new Map<string, number>();

  async create(options: {
    cli_tool: string;
    name?: string;
    env?: Record<string, string>;
  }): Promise<SessionInfo> {
    const id = `s${this.sessions.size + 1}`;
    const info = sessionInfo({
      session_id: id,
      cli_tool: options.cli_tool,
      name: options.name ?? options.cli_tool,
      metadata: { env_keys: Object.keys(options.env ?? {}) },
    });
    this.sessions.set(id, info);
    this.calls.push(`create:${options.cli_tool}`);
    this._create.fire(info);
    return info;
  }
  get(id: string) {
    return this.sessions.get(id);
  }
  list() {
    return [...this.sessions.values()];
  }
  input(id: string, data: string) {
    this.calls.push(`input:${id}:${data}`);
  }
  async command(id: string, text: string) {
    this.calls.push(`command:${id}:${text}`);
    return { ok: true as const, attempts: 1, detail: 'submitted' };
  }
  resize(id: string, cols: number, rows: number) {
    this.calls.push(`resize:${id}:${cols}x${rows}`);
  }
  private readonly _views = new Map<string, ViewSizes>();
  private _viewSizes(id: string): ViewSizes {
    let v = this._views.get(id);
    if (!v) {
      v = createViewSizes();
      this._views.set(id, v);
    }
    return v;
  }
  resizeView(id: string, viewId: string, cols: number, rows: number) {
    const apply = this._viewSizes(id).resize(viewId, cols, rows);
    if (apply) this.resize(id, apply.cols, apply.rows);
  }
  focusView(id: string, viewId: string) {
    const apply = this._viewSizes(id).focus(viewId);
    if (apply) this.resize(id, apply.cols, apply.rows);
  }
  closeView(id: string, viewId: string) {
    this._viewSizes(id).close(viewId);
  }
  async adopt() {
    return [];
  }
  async detach() {
    this.calls.push('detach');
  }
  interrupt(id: string) {
    this.calls.push(`interrupt:${id}`);
  }
  async terminate(id: string, reason?: string) {
    this.calls.push(`terminate:${id}:${reason}`);
    this.setState(id, 'terminated', 'user');
  }
  rename(id: string, name: string) {
    const info = { ...this.sessions.get(id)!, name };
    this.sessions.set(id, info);
    return info;
  }
  remove(id: string) {
    this.sessions.delete(id);
    this._remove.fire(id);
  }
  replay(id: string, afterSeq: number): OutputChunk[] | null {
    const ring = this.ring.get(id) ?? [];
    if (ring.length > 0 && ring[0]!.seq > afterSeq + 1) return null;
    return ring.filter((c) => c.seq > afterSeq);
  }
  async snapshot(_id: string) {
    return { seq: this.snapshotSeq, screen: 'SCREEN', cols: 80, rows: 24 };
  }
  attach(sessionId: string, consumer: OutputConsumer): OutputAttachment {
    const record = { sessionId, consumer, acked: 0, disposed: false };
    this.consumers.push(record);
    return {
      ack: (chars) => {
        record.acked += chars;
      },
      dispose: () => {
        record.disposed = true;
      },
    };
  }
  diagnostics(id: string): SessionDiagnostics {
    return {
      session: this.sessions.get(id)!,
      resource_usage: null,
      limits: this.limits,
      output: { buffered_chunks: 0, buffered_bytes: 0, paused: false, total_bytes: 0 },
      recent_errors: [],
    };
  }
  async shutdown() {
    this.calls.push('shutdown');
  }

  /** Emits output to every live consumer of the session (as the real manager's batcher would). */
  emit(sessionId: string, data: string): OutputChunk {
    const seq = (this._seq.get(sessionId) ?? 0) + 1;
    this._seq.set(sessionId, seq);
    const chunk = { session_id: sessionId, seq, data, at: Date.now() };
    const ring = this.ring.get(sessionId) ?? [];
    ring.push(chunk);
    this.ring.set(sessionId, ring);
    this._output.fire(chunk);
    for (const c of this.consumers) if (c.sessionId === sessionId && !c.disposed) c.consumer.onData(chunk);
    return chunk;
  }

  setState(
    id: string,
    state: SessionInfo['state'],
    source: SessionInfo['state_reason']['source'] = 'screen-rule',
    extra: Partial<SessionInfo> = {},
  ): SessionInfo {
    const before = this.sessions.get(id)!;
    const info: SessionInfo = {
      ...before,
      ...extra,
      state,
      state_reason: { source, detail: `now ${state}`, at: new Date().toISOString() },
    };
    this.sessions.set(id, info);
    this._state.fire({ session: info, previous: before.state });
    return info;
  }
}

/** Timers a test advances by hand. */
export class ManualTimers {
  private _next = 1;
  readonly pending = new Map<number, () => void>();
  setTimeout(fn: () => void, _ms: number): unknown {
    const id = this._next++;
    this.pending.set(id, fn);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  runAll(): void {
    for (const [id, fn] of [...this.pending]) {
      this.pending.delete(id);
      fn();
    }
  }
}
