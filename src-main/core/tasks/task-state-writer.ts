import type { TaskInfo, TaskState } from '../../../src-shared/tasks.ts';
import type { LoggerLike } from '../store/types.ts';
import { Emitter, type Event } from '../util/event.ts';
import type { RedisTaskQueue } from './redis-queue.ts';
import type { TaskHistoryEntry, TaskPatch, TaskStore } from './task-store.ts';

/** How a move hands the task back: `final` keeps it finished, otherwise it is re-queued (a retry). */
export interface ReleaseKind {
  final?: boolean;
  retryDelayMs?: number;
}

/**
 * The one path every state change of a task this worker owns takes: SQLite compare-and-set (the
 * schema trigger validates it and writes task_history), then the shared copy in Redis (best effort:
 * a down Redis never stops a running task), then `onDidChangeTask`. Keeping it in one place is what
 * lets the SQLite row, the Redis copy and the events never disagree on the order of changes.
 */
export class TaskStateWriter {
  private readonly _store: TaskStore;
  private readonly _redis: RedisTaskQueue | null;
  private readonly _workerId: string;
  private readonly _logger: LoggerLike;
  private readonly _onDidChangeTask: Emitter<TaskInfo>;
  readonly onDidChangeTask: Event<TaskInfo>;

  constructor(store: TaskStore, redis: RedisTaskQueue | null, workerId: string, logger: LoggerLike) {
    this._store = store;
    this._redis = redis;
    this._workerId = workerId;
    this._logger = logger;
    this._onDidChangeTask = new Emitter<TaskInfo>((error) =>
      this._logger.error('task listener threw', { error: String(error) }),
    );
    this.onDidChangeTask = this._onDidChangeTask.event;
  }

  /** Announces a change made elsewhere (submission, a queued-task control, another instance). */
  fire(task: TaskInfo): void {
    this._onDidChangeTask.fire(task);
  }

  dispose(): void {
    this._onDidChangeTask.dispose();
  }

  async move(
    taskId: string,
    from: readonly TaskState[],
    to: TaskState,
    reason: string,
    patch: TaskPatch = {},
    release?: ReleaseKind,
  ): Promise<TaskInfo> {
    const before = this._store.get(taskId)!.info.state;
    const moved = this._store.transition(taskId, from, to, reason, patch);
    const info = moved?.info ?? this._store.get(taskId)!.info;
    if (!moved) {
      this._logger.warn('task transition skipped', { task_id: taskId, from: before, to });
      return info;
    }
    if (this._redis) {
      // A finished task keeps the worker that ran it; a re-queued one belongs to nobody.
      const shared = { ...info, worker_id: release && !release.final ? null : info.worker_id };
      try {
        if (release) {
          await this._redis.finish(
            this._workerId,
            shared,
            historyEntry(before, to, reason, info.attempts, this._workerId),
            release.final ? 'final' : 'retry',
            release.retryDelayMs ?? 0,
          );
        } else {
          await this.shareOwned(info, before, to, reason);
        }
      } catch (error) {
        this._logger.warn('shared task state not updated', { task_id: taskId, error: String(error) });
      }
    }
    this._onDidChangeTask.fire(info);
    return info;
  }

  /** Copies a change of a task this worker owns to Redis (no-op without Redis). */
  async shareOwned(info: TaskInfo, from: TaskState, to: TaskState, reason: string): Promise<void> {
    if (!this._redis) return;
    try {
      await this._redis.saveOwned(
        this._workerId,
        info,
        historyEntry(from, to, reason, info.attempts, this._workerId),
      );
    } catch (error) {
      this._logger.warn('shared task state not updated', { task_id: info.task_id, error: String(error) });
    }
  }
}

export function historyEntry(
  from: TaskState | null,
  to: TaskState,
  reason: string,
  attempt: number,
  workerId: string | null,
): TaskHistoryEntry {
  return {
    state_from: from,
    state_to: to,
    reason,
    attempt,
    worker_id: workerId,
    at: new Date().toISOString(),
  };
}
