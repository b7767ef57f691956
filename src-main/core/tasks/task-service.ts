import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Database } from 'better-sqlite3';
import type { Registry } from 'prom-client';
import type { Page, TaskListQuery } from '../../../src-shared/rest.ts';
import { TaskListQuerySchema } from '../../../src-shared/rest.ts';
import {
  FINAL_TASK_STATES,
  type SubmitTaskOptions,
  type SubmitTaskRequest,
  SubmitTaskSchema,
  type TaskInfo,
  type TaskState,
} from '../../../src-shared/tasks.ts';
import { buildOneShotArgv, oneShotStdin } from '../providers/argv.ts';
import type { ProviderDefinition, ProviderRegistry } from '../providers/types.ts';
import { createRedactor, type Redactor } from '../security/redact.ts';
import { buildAgentEnv } from '../sessions/agent-env.ts';
import { type LoggerLike, silentLogger } from '../store/types.ts';
import { Emitter, type Event } from '../util/event.ts';
import { type AttemptOutcome, AttemptRun } from './attempt-runner.ts';
import { classifyOutcome, type Verdict } from './classify-outcome.ts';
import {
  QueueUnavailableError,
  RateLimitError,
  TaskConflictError,
  TaskNotFoundError,
  TaskValidationError,
  UnknownProviderError,
} from './errors.ts';
import { outputFormatFor } from './output-formats.ts';
import type { ParsedLine } from './output-parser.ts';
import { slidingWindowVerdict } from './rate-limit.ts';
import { type ControlAction, RedisTaskQueue, type TaskRedisOptions } from './redis-queue.ts';
import { computeTaskMetrics, registerTaskCollectors, type TaskMetrics } from './task-metrics.ts';
import {
  type StoredTask,
  type TaskHistoryEntry,
  type TaskOutputEntry,
  type TaskPatch,
  TaskStore,
} from './task-store.ts';

export interface TaskLimits {
  /** Task processes running at once on this instance. */
  global_concurrency: number;
  /** Per provider on this instance; a provider not listed is bounded by the global limit only. */
  per_provider: Record<string, number>;
  /** Task submissions per user per sliding hour (each task of a batch counts). */
  per_user_per_hour: number;
}

export interface TaskServiceOptions {
  db: Database;
  providers: ProviderRegistry;
  logger?: LoggerLike;
  /** Shared queue; without it the SQLite table is the queue (one process). */
  redis?: TaskRedisOptions;
  workerId?: string;
  limits?: Partial<TaskLimits>;
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

interface LiveRun {
  task_id: string;
  cli_tool: string;
  attempt: number;
  run: AttemptRun | null;
  /** A control that arrived while the process was still being spawned. */
  pendingCancel: string | null;
  finished: Promise<void>;
}

const DEFAULT_LIMITS: TaskLimits = { global_concurrency: 4, per_provider: {}, per_user_per_hour: 10 };

export function createTaskService(options: TaskServiceOptions): TaskService {
  return new TaskServiceImpl(options);
}

/**
 * Tasks: queued one-shot agent runs. One instance is a worker with its own concurrency limits; the
 * queue is the SQLite table (embedded) or Redis (shared, leased claims). Every state change goes
 * through the store's compare-and-set (validated by the schema trigger, recorded in task_history),
 * then to Redis when shared, then out as `onDidChangeTask`.
 *
 * Pause, by design: a queued task is held (skipped by the queue until resumed); a running task's
 * whole process group gets SIGSTOP and keeps its concurrency slot and lease, and its run-time limit
 * stops counting, until SIGCONT on resume. The agent's network connections may time out while
 * stopped; the alternative (kill and re-run) would lose work and double the cost, so we keep it.
 */
class TaskServiceImpl implements TaskService {
  readonly workerId: string;
  readonly limits: TaskLimits;
  private readonly _store: TaskStore;
  private readonly _providers: ProviderRegistry;
  private readonly _logger: LoggerLike;
  private readonly _redis: RedisTaskQueue | null;
  private readonly _onDidChangeTask = new Emitter<TaskInfo>((error) =>
    this._logger.error('task listener threw', { error: String(error) }),
  );
  readonly onDidChangeTask = this._onDidChangeTask.event;
  private readonly _live = new Map<string, LiveRun>();
  private readonly _syncWaitMs: number;
  private readonly _retryBaseMs: number;
  private readonly _killGraceMs: number;
  private readonly _maxOutputLines: number;
  private readonly _rateWindowMs: number;
  private readonly _redactor: Redactor;
  private readonly _env: NodeJS.ProcessEnv;
  private _lastUpkeepError = '';
  /** Redis mode: providers whose binary this machine has (others are left to workers that do). */
  private _installed: { ids: Set<string>; at: number } | null = null;
  private _pumping = false;
  private _pumpAgain = false;
  private _stopped = false;
  private _wakeTimer: NodeJS.Timeout | null = null;
  private readonly _timers: NodeJS.Timeout[] = [];
  private readonly _ready: Promise<void>;

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
    this._retryBaseMs = options.retryBaseMs ?? 2000;
    this._killGraceMs = options.killGraceMs ?? 3000;
    this._maxOutputLines = options.maxOutputLines ?? 5000;
    this._rateWindowMs = options.rateWindowMs ?? 3_600_000;
    this._redactor = options.redactor ?? createRedactor();
    this._env = options.env ?? process.env;
    this._redis = options.redis ? new RedisTaskQueue(options.redis, this._logger) : null;
    this._ready = this._start();
  }

  private async _start(): Promise<void> {
    const redis = this._redis;
    if (!redis) {
      this._schedulePump();
      return;
    }
    await redis.connect((task, origin) => {
      if (origin === this.workerId) return;
      this._onDidChangeTask.fire(task);
    });
    const every = (ms: number, fn: () => Promise<void>) => {
      let busy = false;
      const timer = setInterval(() => {
        if (busy || this._stopped) return;
        busy = true;
        fn()
          .catch((error: unknown) => {
            // Once per distinct failure: a Redis outage must not flood the log every interval.
            const message = String(error);
            if (message !== this._lastUpkeepError)
              this._logger.warn('task queue upkeep failed', { error: message });
            this._lastUpkeepError = message;
          })
          .then(() => {
            this._lastUpkeepError = '';
          })
          .finally(() => {
            busy = false;
          });
      }, ms);
      timer.unref();
      this._timers.push(timer);
    };
    every(Math.max(100, Math.floor(redis.leaseMs / 3)), () => this._heartbeat());
    every(redis.reapMs, async () => {
      const reaped = await redis.reap();
      for (const t of reaped) this._logger.warn('task lease expired', { task_id: t.task_id, state: t.state });
      if (reaped.length > 0) this._schedulePump();
    });
    every(redis.pollMs, async () => this._schedulePump());
    this._schedulePump();
  }

  // ---- submission -------------------------------------------------------------------------------

  async submit(
    input: SubmitTaskRequest | SubmitTaskRequest[],
    options: { waitMs?: number } = {},
  ): Promise<SubmitResult> {
    if (this._stopped) throw new TaskConflictError('task service is shutting down');
    const requests = (Array.isArray(input) ? input : [input]).map((r) => SubmitTaskSchema.parse(r));
    if (requests.length === 0) return { tasks: [], completed: true };
    for (const r of requests) {
      this._requireOneShotProvider(r.cli_tool);
      // Relative to what? Another instance (or a restarted one) would resolve it differently.
      if (r.working_directory !== undefined && !path.isAbsolute(r.working_directory)) {
        throw new TaskValidationError(`working_directory must be an absolute path: ${r.working_directory}`);
      }
    }
    const now = new Date();
    const created_at = now.toISOString();
    const batchId = requests.length > 1 ? `batch-${randomUUID()}` : null;
    const rows = requests.map((o) => ({
      task_id: `task-${randomUUID()}`,
      batch_id: batchId,
      options: { ...o, working_directory: o.working_directory ?? this._env.HOME ?? os.homedir() },
      created_at,
    }));
    const infos = rows.map((r) => newTaskInfo(r.task_id, r.options, created_at));

    if (this._redis) {
      await this._ready;
      if (!this._redis.connected) throw new QueueUnavailableError('redis is not connected');
      const reserved: { user: string; members: string[] }[] = [];
      try {
        for (const [user, ids] of groupBy(rows, (r) => r.options.user_id)) {
          const members = ids.map((r) => r.task_id);
          const verdict = await this._redis.reserveRate(
            user,
            members,
            this.limits.per_user_per_hour,
            this._rateWindowMs,
          );
          if (!verdict.allowed) {
            const v = slidingWindowVerdict(
              verdict.times,
              members.length,
              this.limits.per_user_per_hour,
              this._rateWindowMs,
              verdict.now,
            );
            throw this._rateError(user, v.allowed ? 1 : v.retry_after_s);
          }
          reserved.push({ user, members });
        }
        await this._redis.enqueue(
          infos.map((info, i) => ({ info, full_access: rows[i]!.options.full_access })),
        );
      } catch (error) {
        for (const r of reserved) await this._redis.releaseRate(r.user, r.members);
        throw error;
      }
    } else {
      // Check and insert in one synchronous stretch: nothing else runs in between.
      for (const [user, group] of groupBy(rows, (r) => r.options.user_id)) {
        const since = new Date(now.getTime() - this._rateWindowMs).toISOString();
        const times = this._store.userSubmissionsSince(user, since).map((t) => Date.parse(t));
        const v = slidingWindowVerdict(
          times,
          group.length,
          this.limits.per_user_per_hour,
          this._rateWindowMs,
          now.getTime(),
        );
        if (!v.allowed) throw this._rateError(user, v.retry_after_s);
      }
      this._store.insert(rows);
    }
    for (const info of infos) this._onDidChangeTask.fire(info);
    this._logger.info('tasks submitted', { count: infos.length, batch_id: batchId, worker: this.workerId });
    this._schedulePump();

    const sync = requests.some((r) => r.mode === 'sync');
    if (!sync) return { tasks: infos, completed: false };
    const waitMs = Math.min(options.waitMs ?? this._syncWaitMs, this._syncWaitMs);
    const deadline = Date.now() + waitMs;
    const finals = await Promise.all(
      infos.map((t) => this.waitForFinal(t.task_id, Math.max(0, deadline - Date.now()))),
    );
    return { tasks: finals, completed: finals.every((t) => FINAL_TASK_STATES.has(t.state)) };
  }

  private _rateError(user: string, retryAfterS: number): RateLimitError {
    return new RateLimitError(user, this.limits.per_user_per_hour, this._rateWindowMs / 1000, retryAfterS);
  }

  private _requireOneShotProvider(cliTool: string): ProviderDefinition {
    const def = this._providers.get(cliTool);
    if (!def) throw new UnknownProviderError(cliTool, 'no such provider');
    if (!def.one_shot) throw new UnknownProviderError(cliTool, 'this provider has no one-shot mode');
    return def;
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
        this._onDidChangeTask.fire(out.task);
        if (action === 'resume') this._schedulePump();
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
    this._onDidChangeTask.fire(moved.info);
    if (to === 'queued') this._schedulePump();
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
    if (action === 'pause') {
      if (!run || state !== 'running' || !run.pause())
        throw new TaskConflictError(`cannot pause a task in state ${state}`);
      return this._move(live, ['running'], 'paused', `${reason}: SIGSTOP to process group ${run.pid}`);
    }
    if (!run || state !== 'paused' || !run.resume())
      throw new TaskConflictError(`cannot resume a task in state ${state}`);
    return this._move(live, ['paused'], 'running', `${reason}: SIGCONT to process group ${run.pid}`);
  }

  // ---- scheduling ------------------------------------------------------------------------------

  private async _providersWithRoom(): Promise<string[]> {
    if (this._live.size >= this.limits.global_concurrency) return [];
    const running = new Map<string, number>();
    for (const l of this._live.values()) running.set(l.cli_tool, (running.get(l.cli_tool) ?? 0) + 1);
    const installed = this._redis ? await this._installedProviders() : null;
    return this._providers
      .list()
      .filter((p) => p.one_shot !== null && (installed === null || installed.has(p.id)))
      .map((p) => p.id)
      .filter((id) => (running.get(id) ?? 0) < (this.limits.per_provider[id] ?? Number.POSITIVE_INFINITY));
  }

  /**
   * With a shared queue, a worker only claims tasks it can run: one without the CLI would turn every
   * such task into "not installed" while another machine could have run it. (Alone, it claims them
   * anyway, so the user sees that clear error.) Re-checked every minute.
   */
  private async _installedProviders(): Promise<Set<string>> {
    if (this._installed && Date.now() - this._installed.at < 60_000) return this._installed.ids;
    const ids = new Set<string>();
    for (const p of this._providers.list()) {
      if (!p.one_shot) continue;
      const resolved = await this._providers.resolveBinary(p.id).catch(() => null);
      if (resolved?.path) ids.add(p.id);
    }
    this._installed = { ids, at: Date.now() };
    return ids;
  }

  private _schedulePump(): void {
    if (this._stopped) return;
    if (this._pumping) {
      this._pumpAgain = true;
      return;
    }
    this._pumping = true;
    void this._pump().finally(() => {
      this._pumping = false;
      if (this._pumpAgain) {
        this._pumpAgain = false;
        this._schedulePump();
      }
    });
  }

  private async _pump(): Promise<void> {
    try {
      while (!this._stopped) {
        const room = await this._providersWithRoom();
        if (room.length === 0) return;
        const claimed = await this._claim(room);
        if (!claimed) break;
        this._launch(claimed);
      }
      if (!this._redis) this._armWakeTimer();
    } catch (error) {
      if (!(error instanceof QueueUnavailableError)) {
        this._logger.error('task pump failed', { error: String(error) });
      }
    }
  }

  /** Local queue only: wake up when the next backed-off retry becomes due. */
  private _armWakeTimer(): void {
    const next = this._store.nextAvailableAt(Date.now());
    if (this._wakeTimer) clearTimeout(this._wakeTimer);
    this._wakeTimer = null;
    if (next === null) return;
    this._wakeTimer = setTimeout(() => this._schedulePump(), Math.max(10, next - Date.now() + 5));
    this._wakeTimer.unref();
  }

  private async _claim(room: string[]): Promise<StoredTask | null> {
    if (!this._redis) return this._store.claimNext(room, this.workerId, Date.now());
    await this._ready;
    if (!this._redis.connected) return null;
    const claimed = await this._redis.claim(room, this.workerId);
    if (!claimed) return null;
    const info = claimed.info;
    this._store.insertMirror(info, claimed.full_access);
    const stored = this._store.get(info.task_id)!;
    const patch: TaskPatch = {
      attempts: info.attempts + 1,
      worker_id: this.workerId,
      started_at: new Date().toISOString(),
      ended_at: null,
    };
    // The local row may still say `queued` from an earlier attempt, or something older: start over.
    const moved =
      this._store.transition(info.task_id, ['queued'], 'starting', `claimed by ${this.workerId}`, patch) ??
      this._store.get(info.task_id);
    const result = moved ?? stored;
    await this._shareOwned(result.info, 'queued', 'starting', `claimed by ${this.workerId}`);
    return result;
  }

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
    this._onDidChangeTask.fire(task.info);
    live.finished = this._execute(task, live)
      .catch(async (error: unknown) => {
        // A bug or a storage failure must not leave the task `starting` forever.
        this._logger.error('task execution failed', { task_id: live.task_id, error: String(error) });
        live.run?.cancel('internal error');
        await this._move(
          live,
          ['starting', 'running', 'paused', 'completing'],
          'error',
          'internal error',
          {
            error: `internal error: ${String(error).slice(0, 500)}`,
            ended_at: new Date().toISOString(),
            pid: null,
          },
          { final: true },
        ).catch(() => {});
      })
      .finally(() => {
        this._live.delete(live.task_id);
        this._schedulePump();
      });
  }

  // ---- execution -------------------------------------------------------------------------------

  private async _execute(task: StoredTask, live: LiveRun): Promise<void> {
    const info = task.info;
    const def = this._providers.get(info.cli_tool);
    const startedAt = Date.now();
    const fail = (message: string) =>
      this._conclude(live, task, {
        verdict: { state: 'error', retryable: false, reason: message, error: message },
        outcome: null,
        startedAt,
      });
    if (!def?.one_shot) return fail(`${info.cli_tool}: no such provider with a one-shot mode`);
    const resolved = await this._providers.resolveBinary(def.id);
    if (!resolved.path) return fail(resolved.error ?? `${def.binary} is not installed or not on PATH`);
    if (!isDirectory(info.working_directory)) {
      return fail(`working directory ${info.working_directory} does not exist`);
    }
    if (live.pendingCancel) {
      return this._conclude(live, task, {
        verdict: { state: 'cancelled', retryable: false, reason: live.pendingCancel, error: null },
        outcome: null,
        startedAt,
      });
    }
    const [binary, ...argv] = buildOneShotArgv(def, info.prompt, {
      fullAccess: task.full_access,
      binaryPath: resolved.path,
    });
    const loginPath = this._providers.searchPath
      ? await this._providers.searchPath().catch(() => null)
      : null;
    const env = buildAgentEnv({
      sessionId: info.task_id,
      providerEnvKeys: def.env_keys,
      overrides: { NO_COLOR: '1', AUTODEV_TASK_ID: info.task_id },
      source: this._env,
      loginPath,
    });

    const sink = new OutputSink(
      this._store,
      info.task_id,
      live.attempt,
      this._maxOutputLines,
      this._redactor,
    );
    const run = new AttemptRun(
      {
        binary: binary!,
        argv,
        stdin: oneShotStdin(def, info.prompt),
        cwd: info.working_directory,
        env,
        timeoutMs: info.timeout_s * 1000,
        killGraceMs: this._killGraceMs,
        format: outputFormatFor(def),
      },
      { onLine: (stream, line) => sink.add(stream, line) },
    );
    live.run = run;
    if (live.pendingCancel) run.cancel(live.pendingCancel);
    // Give the spawn a tick to report ENOENT before we call the task running.
    await new Promise((r) => setImmediate(r));
    if (run.pid !== null) {
      this._store.patch(info.task_id, { pid: run.pid });
      await this._move(live, ['starting'], 'running', `spawned ${def.binary} (pid ${run.pid})`);
    }
    const outcome = await run.done;
    sink.close();
    const verdict = classifyOutcome(info.cli_tool, def.binary, outcome);
    await this._conclude(live, task, { verdict, outcome, startedAt, sink });
  }

  private async _conclude(
    live: LiveRun,
    task: StoredTask,
    args: { verdict: Verdict; outcome: AttemptOutcome | null; startedAt: number; sink?: OutputSink },
  ): Promise<void> {
    const { verdict, outcome } = args;
    const id = task.info.task_id;
    const parsed = outcome?.parsed;
    const current = this._store.get(id)!.info;
    const retry =
      verdict.state === 'error' &&
      verdict.retryable &&
      current.attempts <= current.max_retries &&
      !this._stopped;
    const figures: TaskPatch = {
      exit_code: outcome?.end.kind === 'exited' ? outcome.end.exit_code : null,
      signal: outcome?.end.kind === 'exited' ? outcome.end.signal : null,
      result_text: parsed?.result_text ? this._redactor.redact(parsed.result_text) : null,
      input_tokens: parsed?.input_tokens ?? null,
      output_tokens: parsed?.output_tokens ?? null,
      cache_read_tokens: parsed?.cache_read_tokens ?? null,
      cost_usd: parsed?.cost_usd ?? null,
      duration_ms: outcome?.duration_ms ?? null,
      error: verdict.error ? this._redactor.redact(verdict.error) : null,
      pid: null,
    };
    if (outcome) {
      this._store.recordMetric({
        task_id: id,
        attempt: live.attempt,
        cli_tool: current.cli_tool,
        outcome: retry ? 'error-retried' : verdict.state,
        queue_wait_ms: current.started_at
          ? Math.max(0, Date.parse(current.started_at) - Date.parse(current.created_at))
          : null,
        duration_ms: outcome.duration_ms,
        reported_duration_ms: parsed?.reported_duration_ms ?? null,
        input_tokens: parsed?.input_tokens ?? null,
        output_tokens: parsed?.output_tokens ?? null,
        cache_read_tokens: parsed?.cache_read_tokens ?? null,
        cost_usd: parsed?.cost_usd ?? null,
        exit_code: figures.exit_code ?? null,
        output_lines: args.sink?.count ?? 0,
        malformed_lines: parsed?.malformed ?? 0,
        worker_id: this.workerId,
      });
      if (figures.result_text) args.sink?.final(figures.result_text);
    }

    const ended_at = new Date().toISOString();
    const exitedNormally =
      outcome !== null && (outcome.end.kind === 'exited' || outcome.end.kind === 'spawn_failed');
    let from: TaskState[] = ['starting', 'running', 'paused'];
    if (exitedNormally && current.state !== 'starting') {
      await this._move(live, ['running', 'paused'], 'completing', `process ended (${describeEnd(outcome)})`);
      from = ['completing'];
    }
    if (verdict.state === 'requeue' || retry) {
      const delay = retry ? Math.min(60_000, this._retryBaseMs * 2 ** Math.max(0, current.attempts - 1)) : 0;
      const reason = retry
        ? `retry ${current.attempts}/${current.max_retries} in ${delay} ms after error: ${verdict.reason}`
        : verdict.reason;
      await this._move(
        live,
        [...from, 'completing'],
        'queued',
        reason,
        {
          ...figures,
          available_at_ms: Date.now() + delay,
          worker_id: null,
        },
        { retryDelayMs: delay },
      );
      return;
    }
    const to = verdict.state;
    await this._move(
      live,
      [...from, 'completing'],
      to,
      verdict.reason,
      { ...figures, ended_at },
      { final: true },
    );
    this._logger.info('task finished', { task_id: id, state: to, attempts: current.attempts });
  }

  /**
   * One state change: SQLite compare-and-set (the trigger validates and writes task_history), then
   * the shared copy in Redis (best effort: a down Redis never stops a running task), then the event.
   */
  private async _move(
    live: LiveRun,
    from: TaskState[],
    to: TaskState,
    reason: string,
    patch: TaskPatch = {},
    release?: { final?: boolean; retryDelayMs?: number },
  ): Promise<TaskInfo> {
    const before = this._store.get(live.task_id)!.info.state;
    const moved = this._store.transition(live.task_id, from, to, reason, patch);
    const info = moved?.info ?? this._store.get(live.task_id)!.info;
    if (!moved) {
      this._logger.warn('task transition skipped', { task_id: live.task_id, from: before, to });
      return info;
    }
    if (this._redis) {
      // A finished task keeps the worker that ran it; a re-queued one belongs to nobody.
      const shared = { ...info, worker_id: release && !release.final ? null : info.worker_id };
      try {
        if (release) {
          await this._redis.finish(
            this.workerId,
            shared,
            historyEntry(before, to, reason, info.attempts, this.workerId),
            release.final ? 'final' : 'retry',
            release.retryDelayMs ?? 0,
          );
        } else {
          await this._shareOwned(info, before, to, reason);
        }
      } catch (error) {
        this._logger.warn('shared task state not updated', { task_id: live.task_id, error: String(error) });
      }
    }
    this._onDidChangeTask.fire(info);
    return info;
  }

  private async _shareOwned(info: TaskInfo, from: TaskState, to: TaskState, reason: string): Promise<void> {
    if (!this._redis) return;
    try {
      await this._redis.saveOwned(
        this.workerId,
        info,
        historyEntry(from, to, reason, info.attempts, this.workerId),
      );
    } catch (error) {
      this._logger.warn('shared task state not updated', { task_id: info.task_id, error: String(error) });
    }
  }

  private async _heartbeat(): Promise<void> {
    const redis = this._redis!;
    const ids = [...this._live.keys()];
    if (ids.length === 0) return;
    const result = await redis.heartbeat(this.workerId, ids);
    for (const id of result.lost) {
      const live = this._live.get(id);
      this._logger.warn('task lease lost; stopping the local run', { task_id: id });
      live?.run?.release('lease lost: another worker owns this task now');
    }
    for (const c of result.controls) {
      const live = this._live.get(c.task_id);
      if (!live) continue;
      this._controlLive(live, c.action, `${c.action} requested on another instance`).catch((error: unknown) =>
        this._logger.warn('remote task control failed', { task_id: c.task_id, error: String(error) }),
      );
    }
  }

  async shutdown(options: { requeue?: boolean } = {}): Promise<void> {
    if (this._stopped) return;
    const requeue = options.requeue ?? true;
    this._stopped = true;
    for (const t of this._timers) clearInterval(t);
    if (this._wakeTimer) clearTimeout(this._wakeTimer);
    await this._ready.catch(() => {});
    const lives = [...this._live.values()];
    for (const live of lives) {
      if (!live.run) live.pendingCancel = 'service shutting down';
      else if (requeue) live.run.release('worker shutting down; back in the queue');
      else live.run.cancel('service shutting down');
    }
    await Promise.all(lives.map((l) => l.finished));
    await this._redis?.close();
    this._onDidChangeTask.dispose();
  }
}

/**
 * Buffers one attempt's output rows and writes them in batches (every 200 ms), redacted, capped at
 * `max` rows per attempt.
 */
class OutputSink {
  count = 0;
  private _seq = 0;
  private _buffer: (ParsedLine & { seq: number; stream: 'stdout' | 'stderr' | 'result' })[] = [];
  private _timer: NodeJS.Timeout | null = null;
  private readonly _store: TaskStore;
  private readonly _taskId: string;
  private readonly _attempt: number;
  private readonly _max: number;
  private readonly _redactor: Redactor;

  constructor(store: TaskStore, taskId: string, attempt: number, max: number, redactor: Redactor) {
    this._store = store;
    this._taskId = taskId;
    this._attempt = attempt;
    this._max = max;
    this._redactor = redactor;
  }

  add(stream: 'stdout' | 'stderr', line: ParsedLine): void {
    this.count++;
    if (this._seq >= this._max) return;
    this._buffer.push({ ...line, content: this._redactor.redact(line.content), seq: ++this._seq, stream });
    this._timer ??= setTimeout(() => this.flush(), 200);
  }

  final(text: string): void {
    this.flush();
    this._store.recordFinalText(this._taskId, this._attempt, ++this._seq, text);
  }

  flush(): void {
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
    const rows = this._buffer;
    this._buffer = [];
    this._store.appendOutputs(this._taskId, this._attempt, rows);
  }

  close(): void {
    this.flush();
  }
}

function newTaskInfo(
  taskId: string,
  o: SubmitTaskOptions & { working_directory: string },
  createdAt: string,
): TaskInfo {
  return {
    task_id: taskId,
    cli_tool: o.cli_tool,
    prompt: o.prompt,
    working_directory: o.working_directory,
    priority: o.priority,
    state: 'queued',
    user_id: o.user_id,
    attempts: 0,
    max_retries: o.max_retries,
    timeout_s: o.timeout_s,
    created_at: createdAt,
    started_at: null,
    ended_at: null,
    result_text: null,
    error: null,
    exit_code: null,
    usage: { input_tokens: null, output_tokens: null, cache_read_tokens: null, cost_usd: null },
    duration_ms: null,
    worker_id: null,
    metadata: o.metadata,
  };
}

function historyEntry(
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

function describeEnd(outcome: AttemptOutcome | null): string {
  const end = outcome?.end;
  if (!end) return 'not started';
  if (end.kind === 'exited') return end.signal ? `signal ${end.signal}` : `exit ${end.exit_code}`;
  if (end.kind === 'spawn_failed') return `spawn failed: ${end.code}`;
  return end.kind;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
