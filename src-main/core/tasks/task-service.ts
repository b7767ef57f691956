import os from 'node:os';
import type { Database } from 'better-sqlite3';
import type { Registry } from 'prom-client';
import type { Page, TaskListQuery } from '../../../src-shared/rest.ts';
import { TaskListQuerySchema } from '../../../src-shared/rest.ts';
import {
  FINAL_TASK_STATES,
  type SubmitTaskRequest,
  SubmitTaskSchema,
  type TaskInfo,
  type TaskState,
} from '../../../src-shared/tasks.ts';
import type { ProviderRegistry } from '../providers/types.ts';
import { createRedactor, type Redactor } from '../security/redact.ts';
import { type LoggerLike, silentLogger } from '../store/types.ts';
import type { Event } from '../util/event.ts';
import { AttemptExecutor, type LiveRun } from './attempt-executor.ts';
import { TaskConflictError, TaskNotFoundError } from './errors.ts';
import { type ControlAction, RedisTaskQueue, type TaskRedisOptions } from './redis-queue.ts';
import { type TaskLimits, TaskScheduler } from './scheduler.ts';
import { TaskAdmission } from './task-admission.ts';
import { computeTaskMetrics, registerTaskCollectors, type TaskMetrics } from './task-metrics.ts';
import { TaskStateWriter } from './task-state-writer.ts';
import {
  type StoredTask,
  type TaskHistoryEntry,
  type TaskOutputEntry,
  type TaskPatch,
  TaskStore,
} from './task-store.ts';

export type { TaskLimits } from './scheduler.ts';

export interface TaskServiceOptions {
  db: Database;
  providers: ProviderRegistry;
  logger?: LoggerLike;
  /** Shared queue; without it the SQLite table is the queue (one process). */
  redis?: TaskRedisOptions;
  workerId?: string;
  limits?: Partial<TaskLimits>;
  /** `tasks.api_fallback` in the config file (default true): a provider whose CLI is missing runs
   *  its tasks through its API fallback (provider data) when the key is set. */
  apiFallback?: boolean;
  /** HTTP retries the SDK makes inside one API attempt (429, 5xx, 529). Default 2. */
  apiMaxRetries?: number;
  /** Longest a sync-mode submission waits before answering 202 (ms). Default 120 000. */
  syncWaitMs?: number;
  /** First retry delay; doubles per attempt, capped at 60 s. Default 2000. */
  retryBaseMs?: number;
  /** SIGTERM → SIGKILL grace when stopping a task's process group. Default 3000. */
  killGraceMs?: number;
  /** Stored output lines per attempt (the rest is counted, not kept). Default 5000. */
  maxOutputLines?: number;
  /** The window of the per-user limit (ms). Default one hour. */
  rateWindowMs?: number;
  /** Scrubs secrets from stored output; default: the core redactor. */
  redactor?: Redactor;
  env?: NodeJS.ProcessEnv;
}

export interface TaskDetail {
  task: TaskInfo;
  history: TaskHistoryEntry[];
  outputs: TaskOutputEntry[];
}

export interface SubmitResult {
  tasks: TaskInfo[];
  /** Sync mode: true when every task reached a final state within the wait. */
  completed: boolean;
}

export interface TaskService {
  readonly workerId: string;
  readonly limits: TaskLimits;
  /** Every change of every task this instance sees (its own, and with Redis the others'). */
  readonly onDidChangeTask: Event<TaskInfo>;
  /** One task or a batch. Validates (zod), applies the rate limit (RateLimitError), queues, and in
   *  sync mode waits up to the sync limit for the final states. */
  submit(
    input: SubmitTaskRequest | SubmitTaskRequest[],
    options?: { waitMs?: number },
  ): Promise<SubmitResult>;
  get(taskId: string): Promise<TaskInfo>;
  getDetail(taskId: string, options?: { outputLimit?: number }): Promise<TaskDetail>;
  list(query?: TaskListQuery): Promise<Page<TaskInfo>>;
  cancel(taskId: string, reason?: string): Promise<TaskInfo>;
  pause(taskId: string): Promise<TaskInfo>;
  resume(taskId: string): Promise<TaskInfo>;
  /** Resolves with the task once final, or with its current state after `timeoutMs`. */
  waitForFinal(taskId: string, timeoutMs: number): Promise<TaskInfo>;
  getMetrics(): TaskMetrics;
  /** Registers the prom-client collectors (for /metrics); returns an unregister function. */
  registerCollectors(registry: Registry): () => void;
  /** Stops taking work; running tasks are stopped and handed back to the queue (`requeue`, the
   *  default) or cancelled. */
  shutdown(options?: { requeue?: boolean }): Promise<void>;
}

const DEFAULT_LIMITS: TaskLimits = { global_concurrency: 4, per_provider: {}, per_user_per_hour: 10 };

export function createTaskService(options: TaskServiceOptions): TaskService {
  return new TaskServiceImpl(options);
}

/**
 * Tasks: queued one-shot agent runs. One instance is a worker with its own concurrency limits; the
 * queue is the SQLite table (embedded) or Redis (shared, leased claims). This class is the facade:
 * submission (validation, rate limit), reads, controls and shutdown. The parts behind it:
 * scheduler.ts (limits, claims, Redis upkeep), attempt-executor.ts (one attempt: executor choice,
 * output, verdict, retry), task-state-writer.ts (every state change: SQLite compare-and-set, then
 * Redis, then `onDidChangeTask`).
 *
 * Pause, by design: a queued task is held (skipped by the queue until resumed); a running task's
 * whole process group gets SIGSTOP and keeps its concurrency slot and lease, and its run-time limit
 * stops counting, until SIGCONT on resume. The agent's network connections may time out while
 * stopped; the alternative (kill and re-run) would lose work and double the cost, so we keep it.
 * A task answering through the API has no process to stop: pausing it is refused.
 */
class TaskServiceImpl implements TaskService {
  readonly workerId: string;
  readonly limits: TaskLimits;
  readonly onDidChangeTask: Event<TaskInfo>;
  private readonly _store: TaskStore;
  private readonly _providers: ProviderRegistry;
  private readonly _logger: LoggerLike;
  private readonly _redis: RedisTaskQueue | null;
  private readonly _writer: TaskStateWriter;
  private readonly _scheduler: TaskScheduler;
  private readonly _executor: AttemptExecutor;
  private readonly _admission: TaskAdmission;
  private readonly _live = new Map<string, LiveRun>();
  private readonly _syncWaitMs: number;
  private readonly _killGraceMs: number;
  private readonly _env: NodeJS.ProcessEnv;
  private _stopped = false;

  constructor(options: TaskServiceOptions) {
    this.workerId = options.workerId ?? `${os.hostname()}:${process.pid}`;
    this.limits = {
      ...DEFAULT_LIMITS,
      ...options.limits,
      per_provider: { ...options.limits?.per_provider },
    };
    this._store = new TaskStore(options.db);
    this._providers = options.providers;
    this._logger = options.logger ?? silentLogger;
    this._syncWaitMs = options.syncWaitMs ?? 120_000;
    this._killGraceMs = options.killGraceMs ?? 3000;
    this._env = options.env ?? process.env;
    this._redis = options.redis ? new RedisTaskQueue(options.redis, this._logger) : null;
    this._writer = new TaskStateWriter(this._store, this._redis, this.workerId, this._logger);
    this.onDidChangeTask = this._writer.onDidChangeTask;
    this._admission = new TaskAdmission({
      store: this._store,
      redis: this._redis,
      providers: this._providers,
      env: this._env,
      limits: this.limits,
      rateWindowMs: options.rateWindowMs ?? 3_600_000,
    });
    const policy = { apiFallback: options.apiFallback ?? true };
    this._executor = new AttemptExecutor({
      store: this._store,
      writer: this._writer,
      providers: this._providers,
      env: this._env,
      policy,
      redactor: options.redactor ?? createRedactor(),
      logger: this._logger,
      workerId: this.workerId,
      retryBaseMs: options.retryBaseMs ?? 2000,
      killGraceMs: this._killGraceMs,
      maxOutputLines: options.maxOutputLines ?? 5000,
      apiMaxRetries: options.apiMaxRetries ?? 2,
      isStopping: () => this._stopped,
    });
    this._scheduler = new TaskScheduler({
      store: this._store,
      redis: this._redis,
      providers: this._providers,
      env: this._env,
      policy,
      limits: this.limits,
      workerId: this.workerId,
      logger: this._logger,
      writer: this._writer,
      host: {
        live: () => [...this._live.values()],
        launch: (task) => this._launch(task),
        onLeaseLost: (id) => {
          this._logger.warn('task lease lost; stopping the local run', { task_id: id });
          this._live.get(id)?.run?.release('lease lost: another worker owns this task now');
        },
        onRemoteControl: (id, action) => {
          const live = this._live.get(id);
          if (!live) return;
          this._controlLive(live, action, `${action} requested on another instance`).catch((error: unknown) =>
            this._logger.warn('remote task control failed', { task_id: id, error: String(error) }),
          );
        },
      },
    });
  }

  // ---- submission -------------------------------------------------------------------------------

  async submit(
    input: SubmitTaskRequest | SubmitTaskRequest[],
    options: { waitMs?: number } = {},
  ): Promise<SubmitResult> {
    if (this._stopped) throw new TaskConflictError('task service is shutting down');
    const requests = (Array.isArray(input) ? input : [input]).map((r) => SubmitTaskSchema.parse(r));
    if (requests.length === 0) return { tasks: [], completed: true };
    if (this._redis) await this._scheduler.ready;
    const { infos, batchId } = await this._admission.admit(requests);
    for (const info of infos) this._writer.fire(info);
    this._logger.info('tasks submitted', { count: infos.length, batch_id: batchId, worker: this.workerId });
    this._scheduler.schedule();

    const sync = requests.some((r) => r.mode === 'sync');
    if (!sync) return { tasks: infos, completed: false };
    const waitMs = Math.min(options.waitMs ?? this._syncWaitMs, this._syncWaitMs);
    const deadline = Date.now() + waitMs;
    const finals = await Promise.all(
      infos.map((t) => this.waitForFinal(t.task_id, Math.max(0, deadline - Date.now()))),
    );
    return { tasks: finals, completed: finals.every((t) => FINAL_TASK_STATES.has(t.state)) };
  }

  // ---- reads -----------------------------------------------------------------------------------

  async get(taskId: string): Promise<TaskInfo> {
    let unavailable: unknown = null;
    if (this._redis) {
      try {
        const shared = await this._redis.get(taskId);
        if (shared) return shared;
      } catch (error) {
        unavailable = error; // fall back to this instance's record
      }
    }
    const local = this._store.get(taskId);
    if (local) return local.info;
    throw unavailable ?? new TaskNotFoundError(taskId);
  }

  async getDetail(taskId: string, options: { outputLimit?: number } = {}): Promise<TaskDetail> {
    const task = await this.get(taskId);
    const history = this._redis ? await this._redis.history(taskId) : this._store.history(taskId);
    // Outputs stay with the instance that ran the attempt; the final result text travels in the task.
    return { task, history, outputs: this._store.outputs(taskId, options.outputLimit ?? 1000) };
  }

  async list(query: TaskListQuery = {}): Promise<Page<TaskInfo>> {
    const q = TaskListQuerySchema.parse(query);
    if (!this._redis) return this._store.list(q);
    const { items, total } = await this._redis.list(
      (t) =>
        (!q.state || t.state === q.state) &&
        (!q.cli_tool || t.cli_tool === q.cli_tool) &&
        (!q.user_id || t.user_id === q.user_id),
      q.limit,
      q.offset,
    );
    return { items, total, limit: q.limit, offset: q.offset };
  }

  waitForFinal(taskId: string, timeoutMs: number): Promise<TaskInfo> {
    return new Promise<TaskInfo>((resolve, reject) => {
      let done = false;
      const finish = (task: TaskInfo | null, error?: unknown) => {
        if (done) return;
        done = true;
        sub.dispose();
        clearTimeout(timer);
        clearInterval(poll);
        if (task) resolve(task);
        else reject(error);
      };
      const check = () => {
        this.get(taskId).then(
          (t) => {
            if (FINAL_TASK_STATES.has(t.state)) finish(t);
          },
          (error) => finish(null, error),
        );
      };
      const sub = this.onDidChangeTask((t) => {
        if (t.task_id === taskId && FINAL_TASK_STATES.has(t.state)) finish(t);
      });
      const timer = setTimeout(() => {
        this.get(taskId).then(
          (t) => finish(t),
          (error) => finish(null, error),
        );
      }, timeoutMs);
      // Redis pub/sub drops messages during an outage: poll the shared state as a backstop.
      const poll = setInterval(check, this._redis ? 1000 : 5000);
      check();
    });
  }

  getMetrics(): TaskMetrics {
    return computeTaskMetrics(this._store.db);
  }

  registerCollectors(registry: Registry): () => void {
    return registerTaskCollectors(registry, () => this.getMetrics());
  }

  // ---- controls --------------------------------------------------------------------------------

  async cancel(taskId: string, reason = 'cancelled by user'): Promise<TaskInfo> {
    return this._control(taskId, 'cancel', reason);
  }

  async pause(taskId: string): Promise<TaskInfo> {
    return this._control(taskId, 'pause', 'paused by user');
  }

  async resume(taskId: string): Promise<TaskInfo> {
    return this._control(taskId, 'resume', 'resumed by user');
  }

  private async _control(taskId: string, action: ControlAction, reason: string): Promise<TaskInfo> {
    const live = this._live.get(taskId);
    if (live) return this._controlLive(live, action, reason);
    if (this._redis) {
      const out = await this._redis.controlQueued(taskId, action, reason);
      if (!out) throw new TaskNotFoundError(taskId);
      if (out.status === 'ok') {
        this._writer.fire(out.task);
        if (action === 'resume') this._scheduler.schedule();
        return out.task;
      }
      if (out.status === 'conflict')
        throw new TaskConflictError(`cannot ${action} a task in state ${out.task.state}`);
      // Owned by another instance: leave the request for its heartbeat, then report what happened.
      await this._redis.requestControl(taskId, action);
      const wantFinal = action === 'cancel';
      const deadline = Date.now() + this._redis.leaseMs + this._killGraceMs + 2000;
      while (Date.now() < deadline) {
        const t = await this.get(taskId);
        if (
          wantFinal ? FINAL_TASK_STATES.has(t.state) : t.state === (action === 'pause' ? 'paused' : 'running')
        )
          return t;
        await sleep(200);
      }
      return this.get(taskId);
    }
    const stored = this._store.get(taskId);
    if (!stored) throw new TaskNotFoundError(taskId);
    const from = stored.info.state;
    let to: TaskState;
    if (action === 'cancel' && (from === 'queued' || from === 'paused')) to = 'cancelled';
    else if (action === 'pause' && from === 'queued') to = 'paused';
    else if (action === 'resume' && from === 'paused') to = 'queued';
    else throw new TaskConflictError(`cannot ${action} a task in state ${from}`);
    const patch: TaskPatch = to === 'cancelled' ? { ended_at: new Date().toISOString() } : {};
    const moved = this._store.transition(taskId, [from], to, reason, patch);
    if (!moved) return this._control(taskId, action, reason); // it moved under us: decide again
    this._writer.fire(moved.info);
    if (to === 'queued') this._scheduler.schedule();
    return moved.info;
  }

  private async _controlLive(live: LiveRun, action: ControlAction, reason: string): Promise<TaskInfo> {
    const current = () => this._store.get(live.task_id)!.info;
    if (action === 'cancel') {
      if (live.run) live.run.cancel(reason);
      else live.pendingCancel = reason;
      await live.finished;
      return this.get(live.task_id);
    }
    const run = live.run;
    const state = current().state;
    if (run?.executor === 'api') {
      throw new TaskConflictError(
        `cannot ${action} a task answering through the API: there is no process to stop (cancel it instead)`,
      );
    }
    if (action === 'pause') {
      if (!run || state !== 'running' || !run.pause())
        throw new TaskConflictError(`cannot pause a task in state ${state}`);
      return this._writer.move(
        live.task_id,
        ['running'],
        'paused',
        `${reason}: SIGSTOP to process group ${run.pid}`,
      );
    }
    if (!run || state !== 'paused' || !run.resume())
      throw new TaskConflictError(`cannot resume a task in state ${state}`);
    return this._writer.move(
      live.task_id,
      ['paused'],
      'running',
      `${reason}: SIGCONT to process group ${run.pid}`,
    );
  }

  // ---- attempts ----------------------------------------------------------------------------------

  /** A claimed task (already `starting`): run its attempt, and whatever happens, end it cleanly. */
  private _launch(task: StoredTask): void {
    const live: LiveRun = {
      task_id: task.info.task_id,
      cli_tool: task.info.cli_tool,
      attempt: task.info.attempts,
      run: null,
      pendingCancel: null,
      finished: Promise.resolve(),
    };
    this._live.set(live.task_id, live);
    this._writer.fire(task.info);
    live.finished = this._executor
      .execute(task, live)
      .catch(async (error: unknown) => {
        // A bug or a storage failure must not leave the task `starting` forever.
        this._logger.error('task execution failed', { task_id: live.task_id, error: String(error) });
        live.run?.cancel('internal error');
        await this._writer
          .move(
            live.task_id,
            ['starting', 'running', 'paused', 'completing'],
            'error',
            'internal error',
            {
              error: `internal error: ${String(error).slice(0, 500)}`,
              ended_at: new Date().toISOString(),
              pid: null,
            },
            { final: true },
          )
          .catch(() => {});
      })
      .finally(() => {
        this._live.delete(live.task_id);
        this._scheduler.schedule();
      });
  }

  async shutdown(options: { requeue?: boolean } = {}): Promise<void> {
    if (this._stopped) return;
    const requeue = options.requeue ?? true;
    this._stopped = true;
    this._scheduler.stop();
    await this._scheduler.ready.catch(() => {});
    const lives = [...this._live.values()];
    for (const live of lives) {
      if (!live.run) live.pendingCancel = 'service shutting down';
      else if (requeue) live.run.release('worker shutting down; back in the queue');
      else live.run.cancel('service shutting down');
    }
    await Promise.all(lives.map((l) => l.finished));
    await this._redis?.close();
    this._writer.dispose();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
