import type { ProviderRegistry } from '../providers/types.ts';
import type { LoggerLike } from '../store/types.ts';
import { QueueUnavailableError } from './errors.ts';
import { canRunProvider, type ExecutorPolicy } from './executor-select.ts';
import type { ControlAction, RedisTaskQueue } from './redis-queue.ts';
import type { TaskStateWriter } from './task-state-writer.ts';
import type { StoredTask, TaskPatch, TaskStore } from './task-store.ts';

export interface TaskLimits {
  /** Task processes running at once on this instance. */
  global_concurrency: number;
  /** Per provider on this instance; a provider not listed is bounded by the global limit only. */
  per_provider: Record<string, number>;
  /** Task submissions per user per sliding hour (each task of a batch counts). */
  per_user_per_hour: number;
}

/** What the scheduler needs from the service: the runs in flight and what to do with a claim. */
export interface SchedulerHost {
  /** Every attempt in flight on this instance. */
  live(): readonly { task_id: string; cli_tool: string }[];
  launch(task: StoredTask): void;
  /** Redis: another worker owns the task now (this one's lease expired). */
  onLeaseLost(taskId: string): void;
  /** Redis: a control (cancel, pause, resume) was requested on another instance. */
  onRemoteControl(taskId: string, action: ControlAction): void;
}

export interface TaskSchedulerOptions {
  store: TaskStore;
  redis: RedisTaskQueue | null;
  providers: ProviderRegistry;
  env: NodeJS.ProcessEnv;
  policy: ExecutorPolicy;
  limits: TaskLimits;
  workerId: string;
  logger: LoggerLike;
  writer: TaskStateWriter;
  host: SchedulerHost;
}

/**
 * The queue side of a worker: which providers have room under the limits, claiming the next task
 * (the SQLite table's compare-and-set, or a leased Redis claim), waking up for backed-off retries,
 * and with Redis the upkeep (lease heartbeats, reaping expired leases, polling for work).
 */
export class TaskScheduler {
  readonly ready: Promise<void>;
  private readonly _o: TaskSchedulerOptions;
  private _stopped = false;
  private _pumping = false;
  private _pumpAgain = false;
  private _wakeTimer: NodeJS.Timeout | null = null;
  private readonly _timers: NodeJS.Timeout[] = [];
  private _lastUpkeepError = '';
  /** Redis mode: providers this machine can run (others are left to workers that can). */
  private _runnable: { ids: Set<string>; at: number } | null = null;

  constructor(options: TaskSchedulerOptions) {
    this._o = options;
    this.ready = this._start();
  }

  private async _start(): Promise<void> {
    const redis = this._o.redis;
    if (!redis) {
      this.schedule();
      return;
    }
    await redis.connect((task, origin) => {
      if (origin === this._o.workerId) return;
      this._o.writer.fire(task);
    });
    this._every(Math.max(100, Math.floor(redis.leaseMs / 3)), () => this._heartbeat());
    this._every(redis.reapMs, async () => {
      const reaped = await redis.reap();
      for (const t of reaped)
        this._o.logger.warn('task lease expired', { task_id: t.task_id, state: t.state });
      if (reaped.length > 0) this.schedule();
    });
    this._every(redis.pollMs, async () => this.schedule());
    this.schedule();
  }

  private _every(ms: number, fn: () => Promise<void>): void {
    let busy = false;
    const timer = setInterval(() => {
      if (busy || this._stopped) return;
      busy = true;
      fn()
        .catch((error: unknown) => {
          // Once per distinct failure: a Redis outage must not flood the log every interval.
          const message = String(error);
          if (message !== this._lastUpkeepError)
            this._o.logger.warn('task queue upkeep failed', { error: message });
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
  }

  private async _heartbeat(): Promise<void> {
    const ids = this._o.host.live().map((l) => l.task_id);
    if (ids.length === 0) return;
    const result = await this._o.redis!.heartbeat(this._o.workerId, ids);
    for (const id of result.lost) this._o.host.onLeaseLost(id);
    for (const c of result.controls) this._o.host.onRemoteControl(c.task_id, c.action);
  }

  /** Claims and launches as much as the limits allow (coalesces calls while a pump is running). */
  schedule(): void {
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
        this.schedule();
      }
    });
  }

  stop(): void {
    this._stopped = true;
    for (const t of this._timers) clearInterval(t);
    if (this._wakeTimer) clearTimeout(this._wakeTimer);
  }

  private async _pump(): Promise<void> {
    try {
      while (!this._stopped) {
        const room = await this._providersWithRoom();
        if (room.length === 0) return;
        const claimed = await this._claim(room);
        if (!claimed) break;
        this._o.host.launch(claimed);
      }
      if (!this._o.redis) this._armWakeTimer();
    } catch (error) {
      if (!(error instanceof QueueUnavailableError)) {
        this._o.logger.error('task pump failed', { error: String(error) });
      }
    }
  }

  private async _providersWithRoom(): Promise<string[]> {
    const { limits, providers } = this._o;
    const live = this._o.host.live();
    if (live.length >= limits.global_concurrency) return [];
    const running = new Map<string, number>();
    for (const l of live) running.set(l.cli_tool, (running.get(l.cli_tool) ?? 0) + 1);
    const runnable = this._o.redis ? await this._runnableProviders() : null;
    return providers
      .list()
      .filter((p) => p.one_shot !== null && (runnable === null || runnable.has(p.id)))
      .map((p) => p.id)
      .filter((id) => (running.get(id) ?? 0) < (limits.per_provider[id] ?? Number.POSITIVE_INFINITY));
  }

  /**
   * With a shared queue, a worker only claims tasks it can run (the CLI installed, or its API
   * fallback usable): one that cannot would turn every such task into "not installed" while another
   * machine could have run it. (Alone, it claims them anyway, so the user sees that clear error.)
   * Re-checked every minute.
   */
  private async _runnableProviders(): Promise<Set<string>> {
    if (this._runnable && Date.now() - this._runnable.at < 60_000) return this._runnable.ids;
    const ids = new Set<string>();
    for (const p of this._o.providers.list()) {
      if (await canRunProvider(p, this._o.providers, this._o.env, this._o.policy)) ids.add(p.id);
    }
    this._runnable = { ids, at: Date.now() };
    return ids;
  }

  /** Local queue only: wake up when the next backed-off retry becomes due. */
  private _armWakeTimer(): void {
    const next = this._o.store.nextAvailableAt(Date.now());
    if (this._wakeTimer) clearTimeout(this._wakeTimer);
    this._wakeTimer = null;
    if (next === null) return;
    this._wakeTimer = setTimeout(() => this.schedule(), Math.max(10, next - Date.now() + 5));
    this._wakeTimer.unref();
  }

  private async _claim(room: string[]): Promise<StoredTask | null> {
    const { store, redis, workerId, writer } = this._o;
    if (!redis) return store.claimNext(room, workerId, Date.now());
    await this.ready;
    if (!redis.connected) return null;
    const claimed = await redis.claim(room, workerId);
    if (!claimed) return null;
    const info = claimed.info;
    store.insertMirror(info, claimed.full_access);
    const stored = store.get(info.task_id)!;
    const patch: TaskPatch = {
      attempts: info.attempts + 1,
      worker_id: workerId,
      started_at: new Date().toISOString(),
      ended_at: null,
    };
    // The local row may still say `queued` from an earlier attempt, or something older: start over.
    const moved =
      store.transition(info.task_id, ['queued'], 'starting', `claimed by ${workerId}`, patch) ??
      store.get(info.task_id);
    const result = moved ?? stored;
    await writer.shareOwned(result.info, 'queued', 'starting', `claimed by ${workerId}`);
    return result;
  }
}
