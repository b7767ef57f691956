import type { z } from 'zod';
import type {
  HistoryEntry,
  HistoryQuerySchema,
  Page,
  ProviderSummary,
  SearchHit,
  SearchQuerySchema,
  SessionListQuerySchema,
  TaskListQuerySchema,
} from '../../src-shared/rest.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import type { SubmitTaskOptions, TaskDetail, TaskInfo, TaskMetrics } from '../../src-shared/tasks.ts';
import type { SessionUsage, UsageQuery, UsageReport } from '../../src-shared/usage.ts';
import type { LiveEvent } from '../../src-shared/ws-protocol.ts';
import type { SessionManager } from '../core/sessions/types.ts';
import type { Event } from '../core/util/event.ts';
import type { WorktreeService } from '../core/worktrees/service.ts';

/**
 * What the desktop shell needs from the core: the same shape the server's `ServerCore` reads
 * (sessions, providers, store, extra live events), plus tasks and an orderly close. `createCore()`'s
 * result is adapted to this in main.ts; tests pass fakes or a real SessionManager.
 */
export interface DesktopCore {
  readonly sessions: SessionManager;
  listProviders(): Promise<ProviderSummary[]>;
  readonly store: DesktopStore | null;
  readonly tasks: DesktopTasks | null;
  /** Interactive sessions' tokens and cost (absent or null without persistence). */
  readonly usage?: DesktopUsage | null;
  readonly onLiveEvent?: Event<LiveEvent>;
  /** Sessions in their own worktree (issue 14); absent in fakes that do not need it. */
  readonly worktrees?: DesktopWorktrees | null;
  /** A new session continuing an ended one's agent conversation; absent: the desktop cannot resume. */
  resumeSession?(sessionId: string): Promise<SessionInfo>;
  /** After `sessions.shutdown()`: flush SQLite, close Redis. `keepSessions`: leave the agents running
   *  in the PTY host for the next launch. */
  close(options?: { keepSessions?: boolean }): Promise<void>;
}

export interface DesktopStore {
  listSessions(query: z.output<typeof SessionListQuerySchema>): Page<SessionInfo>;
  getSession(sessionId: string): SessionInfo | undefined;
  history(sessionId: string, query: z.output<typeof HistoryQuerySchema>): HistoryEntry[];
  search(query: z.output<typeof SearchQuerySchema>): SearchHit[];
  exportSession(sessionId: string, format: 'json' | 'text'): string;
}

export interface DesktopUsage {
  report(query?: UsageQuery): UsageReport;
  session(sessionId: string): SessionUsage | null;
}

export interface DesktopTasks {
  submit(tasks: SubmitTaskOptions[]): Promise<TaskInfo[]> | TaskInfo[];
  list(query: z.output<typeof TaskListQuerySchema>): Promise<Page<TaskInfo>> | Page<TaskInfo>;
  get(taskId: string): Promise<TaskInfo | undefined> | TaskInfo | undefined;
  control(taskId: string, action: 'cancel' | 'pause' | 'resume'): Promise<TaskInfo> | TaskInfo;
  /** History (with reasons) and outputs; optional so simple fakes need not provide it. */
  detail?(taskId: string): Promise<TaskDetail> | TaskDetail;
  metrics?(): Promise<TaskMetrics> | TaskMetrics;
}

/** The worktree service as the IPC handlers call it (the core's WorktreeService). */
export type DesktopWorktrees = Pick<
  WorktreeService,
  'createSession' | 'changes' | 'commit' | 'merge' | 'discard' | 'endSession' | 'list' | 'inspect'
>;
