import type {
  AutoDevApi,
  EndSessionOptions,
  EndSessionResult,
  TerminalAttachment,
  TerminalHandlers,
} from '../../../src-shared/api.ts';
import type {
  CreateSessionResponse,
  HistoryEntry,
  HistoryQuery,
  Page,
  ProviderSummary,
  SearchHit,
  SearchQuery,
  SessionListQuery,
  TaskListQuery,
} from '../../../src-shared/rest.ts';
import type { CreateSessionRequest, SessionDiagnostics, SessionInfo } from '../../../src-shared/session.ts';
import type { SubmitTaskRequest, TaskDetail, TaskInfo, TaskMetrics } from '../../../src-shared/tasks.ts';
import type {
  ChangesQuery,
  ChangesResponse,
  CommitResult,
  DiscardResult,
  MergeRequest,
  MergeResult,
  RepositoryInfo,
  WorktreeListItem,
} from '../../../src-shared/worktrees.ts';
import {
  type ClientMessage,
  type LiveEvent,
  type SnapshotMessageData,
  type StatusMessageData,
  sessionFromStatus,
  TOKEN_SUBPROTOCOL_PREFIX,
  type TokenScope,
  WS_CLOSE,
} from '../../../src-shared/ws-protocol.ts';
import { AckCounter, backoffDelay, OutputSequencer } from '../model/output-sequencer.ts';
import { ApiError } from './api-error.ts';
import type { ConnectionState } from './client-extras.ts';

/**
 * AutoDevApi over the server's REST + WebSocket API (the LAN dashboard). The token is held in memory
 * and sent only as `Authorization: Bearer` and in the first WebSocket message (`auth`), never in a URL.
 * Sockets reconnect with backoff and `resume {last_seq}`; the server answers with the missed output or
 * a snapshot when the gap is older than its buffer.
 */
export interface RemoteApiOptions {
  /** Origin of the server, e.g. `http://127.0.0.1:8001` (the page's own origin in the dashboard). */
  baseUrl: string;
  token: string;
  /** Called once when the server refuses the token (401 or WS 4401/4408): the app shows sign-in. */
  onUnauthorized?: (message: string) => void;
  /**
   * How sockets authenticate: `message` (default, browsers: the first frame is `auth {token}`, so the
   * token is in no header or URL) or `subprotocol` (`Sec-WebSocket-Protocol: autodev.bearer.<jwt>`,
   * which the server requires from clients that send no Origin, such as scripts and Node).
   */
  wsAuth?: 'message' | 'subprotocol';
  fetch?: typeof fetch;
  WebSocket?: typeof WebSocket;
}

/** Chunk size for input sent over the socket (the server bounds `input.data` at 60 000 chars). */
const INPUT_CHUNK = 30_000;
/** Input typed while reconnecting is kept (bounded) and sent once the socket is back. */
const MAX_QUEUED_CHARS = 64 * 1024;
/** Closes after which reconnecting is pointless. */
const FATAL_CLOSES: ReadonlySet<number> = new Set([
  WS_CLOSE.UNAUTHORIZED,
  WS_CLOSE.TOKEN_EXPIRED,
  WS_CLOSE.FORBIDDEN,
  WS_CLOSE.NOT_FOUND,
  WS_CLOSE.POLICY,
]);

let messageCounter = 0;
function envelope<T extends ClientMessage['type']>(type: T, data: unknown): string {
  messageCounter += 1;
  return JSON.stringify({
    type,
    data,
    timestamp: new Date().toISOString(),
    message_id: `ui-${Date.now().toString(36)}-${messageCounter}`,
  });
}

interface ServerFrame {
  type: string;
  session_id?: string;
  data: unknown;
}

function parseFrame(raw: unknown): ServerFrame | null {
  if (typeof raw !== 'string') return null;
  try {
    const value = JSON.parse(raw) as unknown;
    if (value && typeof value === 'object' && typeof (value as ServerFrame).type === 'string')
      return value as ServerFrame;
  } catch {
    // A malformed frame is ignored, never fatal.
  }
  return null;
}

export class RemoteApi implements AutoDevApi {
  readonly transport = 'remote' as const;
  private readonly _base: string;
  private _token: string;
  private readonly _fetch: typeof fetch;
  private readonly _WebSocket: typeof WebSocket;
  private readonly _onUnauthorized: ((message: string) => void) | undefined;
  private readonly _wsAuth: 'message' | 'subprotocol';
  private _unauthorizedReported = false;
  private _events: EventChannel | null = null;
  private readonly _eventListeners = new Set<(event: LiveEvent) => void>();
  private readonly _connectionListeners = new Set<(state: ConnectionState) => void>();
  private _connectionState: ConnectionState = 'connecting';
  private _disposed = false;

  constructor(options: RemoteApiOptions) {
    this._base = options.baseUrl.replace(/\/+$/, '');
    this._token = options.token;
    this._fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this._WebSocket = options.WebSocket ?? globalThis.WebSocket;
    this._onUnauthorized = options.onUnauthorized;
    this._wsAuth = options.wsAuth ?? 'message';
  }

  /** Close every socket; the object is unusable afterwards (sign-out). */
  dispose(): void {
    this._disposed = true;
    this._events?.close();
    this._events = null;
    this._eventListeners.clear();
  }

  // ---- REST -------------------------------------------------------------------------------------

  async whoami(): Promise<{ user_id: string; scope: TokenScope; mode: 'desktop' | 'dashboard' }> {
    const body = await this._request<{ user_id: string; scope: TokenScope; mode?: 'desktop' | 'dashboard' }>(
      'GET',
      '/whoami',
    );
    return { user_id: body.user_id, scope: body.scope, mode: body.mode ?? 'dashboard' };
  }

  async listProviders(): Promise<ProviderSummary[]> {
    return listOf<ProviderSummary>(await this._request('GET', '/cli/providers'), 'providers');
  }

  async listSessions(query: SessionListQuery = {}): Promise<Page<SessionInfo>> {
    return pageOf<SessionInfo>(await this._request('GET', `/cli/sessions${qs(query)}`), 'sessions', query);
  }

  getSession(sessionId: string): Promise<SessionInfo> {
    return this._request('GET', `/cli/sessions/${enc(sessionId)}`);
  }

  async createSession(request: CreateSessionRequest): Promise<SessionInfo> {
    const body = await this._request<CreateSessionResponse | SessionInfo>('POST', '/cli/sessions', request);
    if ('session' in body && body.session) return body.session;
    if ('state' in body) return body;
    return this.getSession(body.session_id);
  }

  async renameSession(sessionId: string, name: string): Promise<SessionInfo> {
    const body = await this._request<SessionInfo | { session: SessionInfo }>(
      'PATCH',
      `/cli/sessions/${enc(sessionId)}`,
      { name },
    );
    return 'session' in body ? body.session : body;
  }

  async terminateSession(sessionId: string): Promise<void> {
    await this._request('DELETE', `/cli/sessions/${enc(sessionId)}`);
  }

  getDiagnostics(sessionId: string): Promise<SessionDiagnostics> {
    return this._request('GET', `/cli/sessions/${enc(sessionId)}/diagnostics`);
  }

  async getHistory(sessionId: string, query: HistoryQuery = {}): Promise<HistoryEntry[]> {
    return listOf<HistoryEntry>(
      await this._request('GET', `/cli/sessions/${enc(sessionId)}/history${qs(query)}`),
      'history',
    );
  }

  async search(query: SearchQuery): Promise<SearchHit[]> {
    return listOf<SearchHit>(await this._request('GET', `/cli/search${qs(query)}`), 'hits');
  }

  async exportSession(sessionId: string, format: 'json' | 'text'): Promise<string> {
    const response = await this._raw('GET', `/cli/sessions/${enc(sessionId)}/export${qs({ format })}`);
    return response.text();
  }

  // Tasks live at the server root (`/tasks`), not under `/cli` (src-main/server/routes/tasks.ts).
  async submitTasks(tasks: SubmitTaskRequest[]): Promise<TaskInfo[]> {
    return listOf<TaskInfo>(await this._request('POST', '/tasks', { tasks }), 'tasks');
  }

  async listTasks(query: TaskListQuery = {}): Promise<Page<TaskInfo>> {
    return pageOf<TaskInfo>(await this._request('GET', `/tasks${qs(query)}`), 'tasks', query);
  }

  async getTask(taskId: string): Promise<TaskInfo> {
    // The detail route is the only per-task read; skip its outputs when only the task is wanted.
    const body = await this._request<TaskDetail | TaskInfo>('GET', `/tasks/${enc(taskId)}?output_limit=0`);
    return 'task' in body ? body.task : body;
  }

  async getTaskDetail(taskId: string): Promise<TaskDetail> {
    const body = await this._request<TaskDetail | TaskInfo>('GET', `/tasks/${enc(taskId)}`);
    if ('task' in body) return { task: body.task, history: body.history ?? [], outputs: body.outputs ?? [] };
    return { task: body, history: [], outputs: [] };
  }

  getTaskMetrics(): Promise<TaskMetrics> {
    return this._request('GET', '/tasks/metrics');
  }

  async controlTask(taskId: string, action: 'cancel' | 'pause' | 'resume'): Promise<TaskInfo> {
    const body = await this._request<{ task: TaskInfo } | TaskInfo>(
      'POST',
      `/tasks/${enc(taskId)}/${action}`,
    );
    return 'task' in body ? body.task : body;
  }

  // Worktrees and their changes (issue 14).
  getChanges(sessionId: string, query: ChangesQuery = {}): Promise<ChangesResponse> {
    return this._request('GET', `/cli/sessions/${enc(sessionId)}/changes${qs(query)}`);
  }

  commitChanges(sessionId: string, message: string): Promise<CommitResult> {
    return this._request('POST', `/cli/sessions/${enc(sessionId)}/changes/commit`, { message });
  }

  mergeChanges(sessionId: string, request: MergeRequest): Promise<MergeResult> {
    return this._request('POST', `/cli/sessions/${enc(sessionId)}/changes/merge`, request);
  }

  discardChanges(sessionId: string): Promise<DiscardResult> {
    return this._request('POST', `/cli/sessions/${enc(sessionId)}/changes/discard`);
  }

  async endSession(sessionId: string, options: EndSessionOptions): Promise<EndSessionResult> {
    const query = options.removeWorktree
      ? qs({ remove_worktree: 'true', ...(options.force ? { force: 'true' } : {}) })
      : '';
    const body = await this._request<Partial<EndSessionResult> & { session: SessionInfo }>(
      'DELETE',
      `/cli/sessions/${enc(sessionId)}${query}`,
    );
    return {
      session_id: sessionId,
      status: body.status ?? body.session.state,
      session: body.session,
      worktree_removed: body.worktree_removed ?? null,
    };
  }

  async listWorktrees(): Promise<WorktreeListItem[]> {
    return listOf<WorktreeListItem>(await this._request('GET', '/worktrees'), 'worktrees');
  }

  inspectRepository(path: string): Promise<RepositoryInfo> {
    return this._request('GET', `/worktrees/inspect${qs({ path })}`);
  }

  private async _request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this._raw(method, path, body);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  private async _raw(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this._token}`,
      Accept: 'application/json',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await this._fetch(`${this._base}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        // Never send or store cookies: the bearer token is the only credential.
        credentials: 'omit',
        cache: 'no-store',
      });
    } catch (error) {
      throw new ApiError(`Cannot reach the AutoDev server (${(error as Error).message})`, 'NETWORK', 0);
    }
    if (response.ok) return response;
    let message = `${response.status} ${response.statusText}`;
    let code =
      response.status === 401 ? 'UNAUTHORIZED' : response.status === 403 ? 'FORBIDDEN' : 'HTTP_ERROR';
    let details: { path: string; message: string }[] | undefined;
    let files: string[] | undefined;
    try {
      const err = (await response.json()) as {
        error?: string;
        error_code?: string;
        details?: typeof details;
        files?: string[];
      };
      if (err.error) message = err.error;
      if (err.error_code) code = err.error_code;
      details = err.details;
      if (Array.isArray(err.files)) files = err.files;
    } catch {
      // Not JSON: keep the status line.
    }
    if (response.status === 401) this._reportUnauthorized(message);
    throw new ApiError(message, code, response.status, details, files);
  }

  private _reportUnauthorized(message: string): void {
    if (this._unauthorizedReported) return;
    this._unauthorizedReported = true;
    this._onUnauthorized?.(message);
  }

  // ---- WebSocket ---------------------------------------------------------------------------------

  private _wsUrl(path: string): string {
    return this._base.replace(/^http/, 'ws') + path;
  }

  /** Open a socket and authenticate with the first message. Resolves the socket once auth is confirmed. */
  private _openSocket(
    path: string,
    onFrame: (frame: ServerFrame) => void,
    onClose: (ev: CloseEvent) => void,
    /** Session sockets: where to resume (rides in the auth message; streaming starts at auth). */
    lastSeq?: () => number,
  ) {
    const byHeader = this._wsAuth === 'subprotocol';
    // Header auth streams from the upgrade on: the resume point rides in the URL (a seq, not a secret).
    const resume = resumeFrom(lastSeq?.());
    const ws = byHeader
      ? new this._WebSocket(
          this._wsUrl(resume.last_seq !== undefined ? `${path}?last_seq=${resume.last_seq}` : path),
          [`${TOKEN_SUBPROTOCOL_PREFIX}${this._token}`],
        )
      : new this._WebSocket(this._wsUrl(path));
    let authed = false;
    let authedResolve: () => void = () => {};
    const authedPromise = new Promise<void>((resolve) => {
      authedResolve = resolve;
    });
    if (!byHeader)
      ws.addEventListener('open', () => ws.send(envelope('auth', { token: this._token, ...resume })));
    ws.addEventListener('message', (ev: MessageEvent) => {
      const frame = parseFrame(ev.data);
      if (!frame) return;
      if (frame.type === 'ping') {
        ws.send(envelope('pong', {}));
        return;
      }
      if (!authed && (frame.type === 'auth' || frame.type === 'output' || frame.type === 'snapshot')) {
        authed = true;
        authedResolve();
        if (frame.type === 'auth') return;
      }
      onFrame(frame);
    });
    ws.addEventListener('close', (ev: CloseEvent) => {
      if (ev.code === WS_CLOSE.UNAUTHORIZED || ev.code === WS_CLOSE.TOKEN_EXPIRED)
        this._reportUnauthorized(ev.reason || 'The token was refused or has expired.');
      onClose(ev);
    });
    return { ws, authed: authedPromise };
  }

  attach(
    sessionId: string,
    handlers: TerminalHandlers,
    options: { lastSeq?: number } = {},
  ): TerminalAttachment {
    const sequencer = new OutputSequencer(options.lastSeq ?? 0);
    let socket: WebSocket | null = null;
    let ready = false;
    let detached = false;
    let attempt = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    const queue: string[] = [];
    let queuedChars = 0;
    let pendingResize: { cols: number; rows: number } | null = null;

    const send = (raw: string) => {
      if (socket && ready && socket.readyState === 1) socket.send(raw);
    };
    const acks = new AckCounter((chars) => send(envelope('ack', { chars })));

    const enqueue = (raw: string) => {
      if (ready && socket?.readyState === 1) return socket.send(raw);
      if (queuedChars + raw.length > MAX_QUEUED_CHARS) return;
      queue.push(raw);
      queuedChars += raw.length;
    };

    const connect = () => {
      if (detached) return;
      handlers.onConnectionChange?.('connecting');
      ready = false;
      sequencer.reconnecting();
      acks.reset();
      const opened = this._openSocket(
        `/cli/session/${enc(sessionId)}/ws`,
        (frame) => {
          if (socket !== opened.ws) return;
          onFrame(frame);
        },
        (ev) => {
          if (socket !== opened.ws) return;
          socket = null;
          ready = false;
          handlers.onConnectionChange?.('closed');
          if (detached) return;
          if (FATAL_CLOSES.has(ev.code)) {
            handlers.onError({
              error: ev.reason || closeText(ev.code),
              error_code:
                ev.code === WS_CLOSE.NOT_FOUND
                  ? 'NOT_FOUND'
                  : ev.code === WS_CLOSE.FORBIDDEN
                    ? 'FORBIDDEN'
                    : 'UNAUTHORIZED',
            });
            return;
          }
          // The process has ended and the server closed normally: there is nothing more to stream.
          if (ended && ev.code === WS_CLOSE.NORMAL) return;
          timer = setTimeout(connect, backoffDelay(attempt++));
        },
        () => sequencer.lastSeq,
      );
      socket = opened.ws;
      opened.authed.then(() => {
        if (socket !== opened.ws || detached) return;
        ready = true;
        attempt = 0;
        handlers.onConnectionChange?.('open');
        if (pendingResize) opened.ws.send(envelope('resize', pendingResize));
        for (const raw of queue.splice(0)) opened.ws.send(raw);
        queuedChars = 0;
      });
    };

    const onFrame = (frame: ServerFrame) => {
      switch (frame.type) {
        case 'output': {
          const data = frame.data as { seq: number; output: string };
          const verdict = sequencer.accept(data.seq);
          if (verdict === 'write') {
            handlers.onOutput(data.seq, data.output, () => acks.parsed(data.output.length));
          } else if (verdict === 'gap') {
            // Chunks went missing (e.g. the server dropped us as a slow viewer): ask again from what we have.
            send(envelope('resume', { last_seq: sequencer.lastSeq }));
          }
          return;
        }
        case 'snapshot': {
          const data = frame.data as SnapshotMessageData;
          sequencer.snapshot(data.seq);
          acks.reset();
          handlers.onSnapshot(data);
          return;
        }
        case 'status': {
          const session = sessionFromStatus(frame.data as StatusMessageData);
          ended = session.state === 'completed' || session.state === 'terminated';
          handlers.onStatus(session);
          return;
        }
        case 'error': {
          const data = frame.data as { error: string; error_code: string };
          handlers.onError({ error: data.error, error_code: data.error_code });
          return;
        }
        default:
          return;
      }
    };

    connect();

    return {
      input: (data: string) => {
        for (let i = 0; i < data.length; i += INPUT_CHUNK)
          enqueue(envelope('input', { data: data.slice(i, i + INPUT_CHUNK) }));
      },
      command: (text: string) => enqueue(envelope('command', { command: text })),
      resize: (cols: number, rows: number) => {
        pendingResize = { cols, rows };
        send(envelope('resize', pendingResize));
      },
      focus: () => send(envelope('focus', {})),
      interrupt: () => enqueue(envelope('cancel', {})),
      detach: () => {
        detached = true;
        clearTimeout(timer);
        const ws = socket;
        socket = null;
        ws?.close(WS_CLOSE.NORMAL, 'detached');
      },
    };
  }

  onEvent(listener: (event: LiveEvent) => void): () => void {
    this._eventListeners.add(listener);
    if (!this._events && !this._disposed) {
      this._events = new EventChannel(this);
    }
    return () => {
      this._eventListeners.delete(listener);
    };
  }

  /** Connection state of the live events channel: the dashboard's "connected / reconnecting" light. */
  onConnectionChange(listener: (state: ConnectionState) => void): () => void {
    this._connectionListeners.add(listener);
    listener(this._connectionState);
    if (!this._events && !this._disposed) this._events = new EventChannel(this);
    return () => {
      this._connectionListeners.delete(listener);
    };
  }

  /** @internal used by EventChannel */
  _emitEvent(event: LiveEvent): void {
    for (const listener of [...this._eventListeners]) {
      try {
        listener(event);
      } catch (error) {
        console.error('event listener failed', error);
      }
    }
  }

  /** @internal */
  _setConnection(state: ConnectionState): void {
    if (state === this._connectionState) return;
    this._connectionState = state;
    for (const listener of [...this._connectionListeners]) listener(state);
  }

  /** @internal */
  _open(path: string, onFrame: (frame: ServerFrame) => void, onClose: (ev: CloseEvent) => void) {
    return this._openSocket(path, onFrame, onClose);
  }
}

/**
 * `/cli/events/ws` with reconnect. After a reconnect the session list is re-read and replayed as
 * `session_state` / `session_removed` events, so listeners never miss a change made while offline.
 */
class EventChannel {
  private readonly _api: RemoteApi;
  private _socket: WebSocket | null = null;
  private _attempt = 0;
  private _timer: ReturnType<typeof setTimeout> | undefined;
  private _closed = false;
  private _everOpened = false;
  private readonly _known = new Set<string>();

  constructor(api: RemoteApi) {
    this._api = api;
    this._connect();
  }

  close(): void {
    this._closed = true;
    clearTimeout(this._timer);
    this._socket?.close(WS_CLOSE.NORMAL, 'closed');
    this._socket = null;
  }

  private _connect(): void {
    if (this._closed) return;
    this._api._setConnection('connecting');
    const opened = this._api._open(
      '/cli/events/ws',
      (frame) => {
        if (frame.type !== 'event') return;
        const event = frame.data as LiveEvent;
        if ('session' in event && event.session) this._known.add(event.session.session_id);
        if (event.kind === 'session_removed') this._known.delete(event.session_id);
        this._api._emitEvent(event);
      },
      (ev) => {
        if (this._socket !== opened.ws) return;
        this._socket = null;
        this._api._setConnection('closed');
        if (this._closed || FATAL_CLOSES.has(ev.code)) return;
        this._timer = setTimeout(() => this._connect(), backoffDelay(this._attempt++));
      },
    );
    this._socket = opened.ws;
    opened.authed.then(() => {
      if (this._socket !== opened.ws) return;
      this._attempt = 0;
      this._api._setConnection('open');
      if (this._everOpened) void this._resync();
      this._everOpened = true;
    });
  }

  private async _resync(): Promise<void> {
    try {
      const page = await this._api.listSessions({ limit: 500 });
      const seen = new Set<string>();
      for (const session of page.items) {
        seen.add(session.session_id);
        this._known.add(session.session_id);
        this._api._emitEvent({ kind: 'session_state', session });
      }
      for (const id of [...this._known]) {
        if (seen.has(id)) continue;
        this._known.delete(id);
        this._api._emitEvent({ kind: 'session_removed', session_id: id });
      }
    } catch {
      // The next event or reconnect will try again.
    }
  }
}

function closeText(code: number): string {
  switch (code) {
    case WS_CLOSE.UNAUTHORIZED:
      return 'The server refused the token.';
    case WS_CLOSE.TOKEN_EXPIRED:
      return 'The token has expired.';
    case WS_CLOSE.FORBIDDEN:
      return 'This token may not open this session.';
    case WS_CLOSE.NOT_FOUND:
      return 'The session no longer exists.';
    default:
      return `Connection closed (${code}).`;
  }
}

function enc(id: string): string {
  return encodeURIComponent(id);
}

function qs(query: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Lists may come bare or wrapped (`{providers: [...]}`, `{items: [...]}`): accept both. */
function listOf<T>(body: unknown, key: string): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === 'object') {
    const record = body as Record<string, unknown>;
    for (const k of [key, 'items', 'results']) if (Array.isArray(record[k])) return record[k] as T[];
  }
  return [];
}

function pageOf<T>(body: unknown, key: string, query: { limit?: unknown; offset?: unknown }): Page<T> {
  const items = listOf<T>(body, key);
  const record = (body && typeof body === 'object' ? body : {}) as Partial<Page<T>>;
  return {
    items,
    total: typeof record.total === 'number' ? record.total : items.length,
    limit: typeof record.limit === 'number' ? record.limit : Number(query.limit ?? items.length),
    offset: typeof record.offset === 'number' ? record.offset : Number(query.offset ?? 0),
  };
}

/** A viewer with output on screen resumes after it; a fresh one asks for the current screen. */
function resumeFrom(lastSeq: number | undefined): { last_seq?: number } {
  return lastSeq !== undefined && lastSeq > 0 ? { last_seq: lastSeq } : {};
}
