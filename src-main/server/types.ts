import type { Registry } from 'prom-client';
import type { z } from 'zod';
import type {
  HistoryEntry,
  HistoryQuerySchema,
  Page,
  ProviderSummary,
  SearchHit,
  SearchQuerySchema,
  SessionListQuerySchema,
} from '../../src-shared/rest.ts';
import type { SessionInfo } from '../../src-shared/session.ts';
import type { LiveEvent } from '../../src-shared/ws-protocol.ts';
import type { ConversationService } from '../core/conversation/index.ts';
import type { ReadStore } from '../core/read-store.ts';
import type { SessionManager } from '../core/sessions/types.ts';
import type { TaskService } from '../core/tasks/task-service.ts';
import type { UsageService } from '../core/usage/index.ts';
import type { Event } from '../core/util/event.ts';
import type { WorktreeService } from '../core/worktrees/service.ts';

/** Structured logger the server writes to (the core logger satisfies it). Fields must never hold secrets. */
export interface ServerLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Read side of the store the REST routes use; defined by the core (src-main/core/read-store.ts). */
export type { ReadStore as ServerStore } from '../core/read-store.ts';

/**
 * What the server needs from the core. `createCore()` returns an object satisfying it; tests and the
 * Electron shell can pass the same core to several servers.
 */
export interface ServerCore {
  readonly version: string;
  readonly sessions: SessionManager;
  listProviders(): Promise<ProviderSummary[]>;
  /** Provider ids the manager can start (unknown ids are answered 400 PROVIDER_UNKNOWN). */
  hasProvider(id: string): boolean;
  readonly store: ReadStore | null;
  /** The task runner; when present the server mounts the /tasks routes. */
  readonly tasks?: TaskService | null;
  /** Sessions in their own worktree (issue 14); when present the server mounts its routes. */
  readonly worktrees?: WorktreeService | null;
  /** A new session continuing an ended one's agent conversation (throws CONFLICT saying why not). */
  resumeSession?(sessionId: string, userId?: string): Promise<SessionInfo>;
  /** Conversations with agents; when present the server mounts the message routes. */
  readonly conversations?: ConversationService | null;
  /** Interactive sessions' tokens and cost; when present the server mounts the usage routes. */
  readonly usage?: UsageService | null;
  /** Recovery report entry for a session of a previous run, if any. */
  recoveryReport(sessionId: string): unknown | null;
  redisStatus(): { configured: boolean; connected: boolean };
  /** Extra live events beyond the manager's (tasks, persistence pause). */
  readonly onLiveEvent?: Event<LiveEvent>;
  readonly logger: ServerLogger;
  /** Extra collectors for /metrics (tasks); returns an unregister function. */
  registerMetrics?(registry: Registry): () => void;
}
