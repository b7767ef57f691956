import type {
  HistoryEntry,
  HistoryQuery,
  Page,
  ProviderSummary,
  SearchHit,
  SearchQuery,
  SessionListQuery,
  TaskListQuery,
} from './rest.ts';
import type { CreateSessionRequest, SessionDiagnostics, SessionInfo } from './session.ts';
import type { SubmitTaskRequest, TaskDetail, TaskInfo, TaskMetrics } from './tasks.ts';
import type { SessionUsage, UsageQuery, UsageReport } from './usage.ts';
import type {
  ChangesQuery,
  ChangesResponse,
  CommitResult,
  DiscardResult,
  MergeRequest,
  MergeResult,
  RemoveWorktreeResult,
  RepositoryInfo,
  WorktreeListItem,
} from './worktrees.ts';
import type { LiveEvent, SnapshotMessageData, TokenScope } from './ws-protocol.ts';

/**
 * The one typed API the renderer talks to. Two transports implement it:
 * the Electron preload bridge (`window.autodev`) and the server's REST + WebSocket API (dashboard).
 * Both must pass the same contract tests.
 */
export interface AutoDevApi {
  readonly transport: 'ipc' | 'remote';
  whoami(): Promise<{ user_id: string; scope: TokenScope; mode: 'desktop' | 'dashboard' }>;

  listProviders(): Promise<ProviderSummary[]>;
  listSessions(query?: SessionListQuery): Promise<Page<SessionInfo>>;
  getSession(sessionId: string): Promise<SessionInfo>;
  createSession(request: CreateSessionRequest): Promise<SessionInfo>;
  renameSession(sessionId: string, name: string): Promise<SessionInfo>;
  terminateSession(sessionId: string): Promise<void>;
  /** A new session continuing an ended session's agent conversation (when it is `resumable`). */
  resumeSession(sessionId: string): Promise<SessionInfo>;
  getDiagnostics(sessionId: string): Promise<SessionDiagnostics>;
  getHistory(sessionId: string, query?: HistoryQuery): Promise<HistoryEntry[]>;
  search(query: SearchQuery): Promise<SearchHit[]>;
  exportSession(sessionId: string, format: 'json' | 'text'): Promise<string>;

  /** Attach a terminal view: replays from `lastSeq` (or a snapshot) and then streams live output. */
  attach(sessionId: string, handlers: TerminalHandlers, options?: { lastSeq?: number }): TerminalAttachment;
  /** Live session list changes (created, state, exited, removed) and task progress. */
  onEvent(listener: (event: LiveEvent) => void): () => void;

  submitTasks(tasks: SubmitTaskRequest[]): Promise<TaskInfo[]>;
  listTasks(query?: TaskListQuery): Promise<Page<TaskInfo>>;
  getTask(taskId: string): Promise<TaskInfo>;
  controlTask(taskId: string, action: 'cancel' | 'pause' | 'resume'): Promise<TaskInfo>;
  /** The task with its state history (reasons) and stored outputs. */
  getTaskDetail(taskId: string): Promise<TaskDetail>;
  /** Counts by state, success rate, duration p50/p95/p99 per provider, token and cost totals. */
  getTaskMetrics(): Promise<TaskMetrics>;

  /** The session's worktree changes against its base: committed, uncommitted and untracked (issue 14). */
  getChanges(sessionId: string, query?: ChangesQuery): Promise<ChangesResponse>;
  /** Commits everything in the session's worktree. Control scope. */
  commitChanges(sessionId: string, message: string): Promise<CommitResult>;
  /** Merges the session's branch into its base (merge, squash or rebase). Control scope. */
  mergeChanges(sessionId: string, request: MergeRequest): Promise<MergeResult>;
  /** Resets the worktree to where it left its base (what is dropped is kept under a ref). Control scope. */
  discardChanges(sessionId: string): Promise<DiscardResult>;
  /** Ends the session; with `removeWorktree` also removes its worktree and branch, refused while there
   *  is uncommitted or unmerged work unless `force`. Control scope. */
  endSession(sessionId: string, options: EndSessionOptions): Promise<EndSessionResult>;
  /** Every managed worktree with its session, state, disk usage and unsaved work. */
  listWorktrees(): Promise<WorktreeListItem[]>;
  /** Whether a directory is in a git repository, and its branches (the new-session dialog). */
  inspectRepository(path: string): Promise<RepositoryInfo>;
  /** Tokens and cost of interactive sessions per provider, day and session, and the budgets' state. */
  getUsage(query?: UsageQuery): Promise<UsageReport>;
  /** One session's tokens and cost per model and day (NOT_FOUND when its agent keeps no record). */
  getSessionUsage(sessionId: string): Promise<SessionUsage>;
}

export interface EndSessionOptions {
  removeWorktree?: boolean;
  force?: boolean;
}

export interface EndSessionResult {
  session_id: string;
  status: string;
  session: SessionInfo;
  worktree_removed: RemoveWorktreeResult | null;
}

export interface TerminalHandlers {
  /** Call `parsed()` after the terminal has parsed `data` (xterm `write` callback): that is the flow-control ack. */
  onOutput(seq: number, data: string, parsed: () => void): void;
  onSnapshot(snapshot: SnapshotMessageData): void;
  onStatus(session: SessionInfo): void;
  onError(error: { error: string; error_code: string }): void;
  onConnectionChange?(state: 'connecting' | 'open' | 'closed'): void;
}

export interface TerminalAttachment {
  input(data: string): void;
  command(text: string): void;
  /** This view's fitted size. The PTY takes it only while this view is the one in use (see `focus`);
   *  otherwise the server keeps it as this view's preference and the view fits the PTY's size locally. */
  resize(cols: number, rows: number): void;
  /** This view is the one in use (focused, or typed into): it now sets the PTY size, like tmux's
   *  `window-size latest`. Read-only and hidden views never call it. */
  focus(): void;
  interrupt(): void;
  detach(): void;
}
