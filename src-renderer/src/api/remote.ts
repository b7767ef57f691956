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
import type { SessionUsage, UsageQuery, UsageReport } from '../../../src-shared/usage.ts';
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
import type { LiveEvent, TokenScope } from '../../../src-shared/ws-protocol.ts';
import type { ConnectionState } from './client-extras.ts';
import { EventChannel } from './remote/event-channel.ts';
import { HttpClient } from './remote/http-client.ts';
import { enc, listOf, pageOf, qs } from './remote/query.ts';
import type { SocketOptions } from './remote/socket.ts';
import { attachTerminal } from './remote/terminal-socket.ts';
import type { ResumeCapable } from './session-actions.ts';

/**
 * AutoDevApi over the server's REST + WebSocket API (the LAN dashboard). The token is held in memory
 * and sent only as `Authorization: Bearer` and in the first WebSocket message (`auth`), never in a URL.
 * The pieces: remote/http-client.ts (REST), remote/terminal-socket.ts (one terminal view),
 * remote/event-channel.ts (the live session list), remote/socket.ts (auth + ping on every socket).
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

export class RemoteApi implements AutoDevApi, ResumeCapable {
  readonly transport = 'remote' as const;
  private readonly _http: HttpClient;
  private readonly _socket: SocketOptions;
  private readonly _onUnauthorized: ((message: string) => void) | undefined;
  private _unauthorizedReported = false;
  private _events: EventChannel | null = null;
  private readonly _eventListeners = new Set<(event: LiveEvent) => void>();
  private readonly _connectionListeners = new Set<(state: ConnectionState) => void>();
  private _connectionState: ConnectionState = 'connecting';
  private _disposed = false;

  constructor(options: RemoteApiOptions) {
    const base = options.baseUrl.replace(/\/+$/, '');
    this._onUnauthorized = options.onUnauthorized;
    const unauthorized = (message: string) => this._reportUnauthorized(message);
    this._http = new HttpClient(
      base,
      options.token,
      options.fetch ?? globalThis.fetch.bind(globalThis),
      unauthorized,
    );
    this._socket = {
      wsBase: base.replace(/^http/, 'ws'),
      token: options.token,
      auth: options.wsAuth ?? 'message',
      WebSocket: options.WebSocket ?? globalThis.WebSocket,
      onUnauthorized: unauthorized,
    };
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
    const body = await this._http.json<{
      user_id: string;
      scope: TokenScope;
      mode?: 'desktop' | 'dashboard';
    }>('GET', '/whoami');
    return { user_id: body.user_id, scope: body.scope, mode: body.mode ?? 'dashboard' };
  }

  async listProviders(): Promise<ProviderSummary[]> {
    return listOf<ProviderSummary>(await this._http.json('GET', '/cli/providers'), 'providers');
  }

  async listSessions(query: SessionListQuery = {}): Promise<Page<SessionInfo>> {
    return pageOf<SessionInfo>(await this._http.json('GET', `/cli/sessions${qs(query)}`), 'sessions', query);
  }

  getSession(sessionId: string): Promise<SessionInfo> {
    return this._http.json('GET', `/cli/sessions/${enc(sessionId)}`);
  }

  async createSession(request: CreateSessionRequest): Promise<SessionInfo> {
    const body = await this._http.json<CreateSessionResponse | SessionInfo>('POST', '/cli/sessions', request);
    if ('session' in body && body.session) return body.session;
    if ('state' in body) return body;
    return this.getSession(body.session_id);
  }

  async renameSession(sessionId: string, name: string): Promise<SessionInfo> {
    const body = await this._http.json<SessionInfo | { session: SessionInfo }>(
      'PATCH',
      `/cli/sessions/${enc(sessionId)}`,
      { name },
    );
    return 'session' in body ? body.session : body;
  }

  async terminateSession(sessionId: string): Promise<void> {
    await this._http.json('DELETE', `/cli/sessions/${enc(sessionId)}`);
  }

  /** Ended sessions the server marks resumable (`POST /cli/sessions/{id}/resume`). */
  async resumeSession(sessionId: string): Promise<SessionInfo> {
    const body = await this._http.json<SessionInfo | { session: SessionInfo }>(
      'POST',
      `/cli/sessions/${enc(sessionId)}/resume`,
    );
    return 'session' in body ? body.session : body;
  }

  getDiagnostics(sessionId: string): Promise<SessionDiagnostics> {
    return this._http.json('GET', `/cli/sessions/${enc(sessionId)}/diagnostics`);
  }

  async getHistory(sessionId: string, query: HistoryQuery = {}): Promise<HistoryEntry[]> {
    return listOf<HistoryEntry>(
      await this._http.json('GET', `/cli/sessions/${enc(sessionId)}/history${qs(query)}`),
      'history',
    );
  }

  async search(query: SearchQuery): Promise<SearchHit[]> {
    return listOf<SearchHit>(await this._http.json('GET', `/cli/search${qs(query)}`), 'hits');
  }

  async exportSession(sessionId: string, format: 'json' | 'text'): Promise<string> {
    const response = await this._http.raw('GET', `/cli/sessions/${enc(sessionId)}/export${qs({ format })}`);
    return response.text();
  }

  // Tasks live at the server root (`/tasks`), not under `/cli` (src-main/server/routes/tasks.ts).
  async submitTasks(tasks: SubmitTaskRequest[]): Promise<TaskInfo[]> {
    return listOf<TaskInfo>(await this._http.json('POST', '/tasks', { tasks }), 'tasks');
  }

  async listTasks(query: TaskListQuery = {}): Promise<Page<TaskInfo>> {
    return pageOf<TaskInfo>(await this._http.json('GET', `/tasks${qs(query)}`), 'tasks', query);
  }

  async getTask(taskId: string): Promise<TaskInfo> {
    // The detail route is the only per-task read; skip its outputs when only the task is wanted.
    const body = await this._http.json<TaskDetail | TaskInfo>('GET', `/tasks/${enc(taskId)}?output_limit=0`);
    return 'task' in body ? body.task : body;
  }

  async getTaskDetail(taskId: string): Promise<TaskDetail> {
    const body = await this._http.json<TaskDetail | TaskInfo>('GET', `/tasks/${enc(taskId)}`);
    if ('task' in body) return { task: body.task, history: body.history ?? [], outputs: body.outputs ?? [] };
    return { task: body, history: [], outputs: [] };
  }

  getTaskMetrics(): Promise<TaskMetrics> {
    return this._http.json('GET', '/tasks/metrics');
  }

  getUsage(query: UsageQuery = {}): Promise<UsageReport> {
    return this._http.json('GET', `/usage${qs(query)}`);
  }

  getSessionUsage(sessionId: string): Promise<SessionUsage> {
    return this._http.json('GET', `/cli/sessions/${enc(sessionId)}/usage`);
  }

  async controlTask(taskId: string, action: 'cancel' | 'pause' | 'resume'): Promise<TaskInfo> {
    const body = await this._http.json<{ task: TaskInfo } | TaskInfo>(
      'POST',
      `/tasks/${enc(taskId)}/${action}`,
    );
    return 'task' in body ? body.task : body;
  }

  // Worktrees and their changes (issue 14).
  getChanges(sessionId: string, query: ChangesQuery = {}): Promise<ChangesResponse> {
    return this._http.json('GET', `/cli/sessions/${enc(sessionId)}/changes${qs(query)}`);
  }

  commitChanges(sessionId: string, message: string): Promise<CommitResult> {
    return this._http.json('POST', `/cli/sessions/${enc(sessionId)}/changes/commit`, { message });
  }

  mergeChanges(sessionId: string, request: MergeRequest): Promise<MergeResult> {
    return this._http.json('POST', `/cli/sessions/${enc(sessionId)}/changes/merge`, request);
  }

  discardChanges(sessionId: string): Promise<DiscardResult> {
    return this._http.json('POST', `/cli/sessions/${enc(sessionId)}/changes/discard`);
  }

  async endSession(sessionId: string, options: EndSessionOptions): Promise<EndSessionResult> {
    const query = options.removeWorktree
      ? qs({ remove_worktree: 'true', ...(options.force ? { force: 'true' } : {}) })
      : '';
    const body = await this._http.json<Partial<EndSessionResult> & { session: SessionInfo }>(
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
    return listOf<WorktreeListItem>(await this._http.json('GET', '/worktrees'), 'worktrees');
  }

  inspectRepository(path: string): Promise<RepositoryInfo> {
    return this._http.json('GET', `/worktrees/inspect${qs({ path })}`);
  }

  private _reportUnauthorized(message: string): void {
    if (this._unauthorizedReported) return;
    this._unauthorizedReported = true;
    this._onUnauthorized?.(message);
  }

  // ---- WebSocket ---------------------------------------------------------------------------------

  attach(
    sessionId: string,
    handlers: TerminalHandlers,
    options: { lastSeq?: number } = {},
  ): TerminalAttachment {
    return attachTerminal(this._socket, sessionId, handlers, options);
  }

  onEvent(listener: (event: LiveEvent) => void): () => void {
    this._eventListeners.add(listener);
    this._ensureEvents();
    return () => {
      this._eventListeners.delete(listener);
    };
  }

  /** Connection state of the live events channel: the dashboard's "connected / reconnecting" light. */
  onConnectionChange(listener: (state: ConnectionState) => void): () => void {
    this._connectionListeners.add(listener);
    listener(this._connectionState);
    this._ensureEvents();
    return () => {
      this._connectionListeners.delete(listener);
    };
  }

  private _ensureEvents(): void {
    if (this._events || this._disposed) return;
    this._events = new EventChannel({
      socket: this._socket,
      emit: (event) => {
        for (const listener of [...this._eventListeners]) {
          try {
            listener(event);
          } catch (error) {
            console.error('event listener failed', error);
          }
        }
      },
      setConnection: (state) => {
        if (state === this._connectionState) return;
        this._connectionState = state;
        for (const listener of [...this._connectionListeners]) listener(state);
      },
      listSessions: () => this.listSessions({ limit: 500 }),
    });
  }
}
