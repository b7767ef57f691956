import { randomUUID } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { SubmitTaskOptions, TaskInfo } from '../../../src-shared/tasks.ts';
import type { ProviderRegistry } from '../providers/types.ts';
import {
  QueueUnavailableError,
  RateLimitError,
  TaskValidationError,
  UnknownProviderError,
} from './errors.ts';
import { slidingWindowVerdict } from './rate-limit.ts';
import type { RedisTaskQueue } from './redis-queue.ts';
import type { TaskLimits } from './scheduler.ts';
import type { NewTaskRow, TaskStore } from './task-store.ts';

export interface TaskAdmissionOptions {
  store: TaskStore;
  redis: RedisTaskQueue | null;
  providers: ProviderRegistry;
  env: NodeJS.ProcessEnv;
  limits: TaskLimits;
  rateWindowMs: number;
}

/**
 * Letting validated submissions into the queue: each names a provider with a one-shot mode and an
 * absolute working directory, the per-user sliding-window limit has room for all of them (a batch
 * is admitted whole or not at all), and they are stored — in the SQLite table, or enqueued in Redis
 * with the rate reservation rolled back if anything fails.
 */
export class TaskAdmission {
  private readonly _o: TaskAdmissionOptions;

  constructor(options: TaskAdmissionOptions) {
    this._o = options;
  }

  async admit(
    requests: readonly SubmitTaskOptions[],
  ): Promise<{ infos: TaskInfo[]; batchId: string | null }> {
    const { store, redis, env } = this._o;
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
    const rows: NewTaskRow[] = requests.map((o) => ({
      task_id: `task-${randomUUID()}`,
      batch_id: batchId,
      options: { ...o, working_directory: o.working_directory ?? env.HOME ?? os.homedir() },
      created_at,
    }));
    const infos = rows.map((r) => newTaskInfo(r.task_id, r.options, created_at));

    if (redis) {
      if (!redis.connected) throw new QueueUnavailableError('redis is not connected');
      const reserved: { user: string; members: string[] }[] = [];
      try {
        for (const [user, ids] of groupBy(rows, (r) => r.options.user_id)) {
          const members = ids.map((r) => r.task_id);
          const limit = this._o.limits.per_user_per_hour;
          const verdict = await redis.reserveRate(user, members, limit, this._o.rateWindowMs);
          if (!verdict.allowed) {
            const v = slidingWindowVerdict(
              verdict.times,
              members.length,
              limit,
              this._o.rateWindowMs,
              verdict.now,
            );
            throw this._rateError(user, v.allowed ? 1 : v.retry_after_s);
          }
          reserved.push({ user, members });
        }
        await redis.enqueue(infos.map((info, i) => ({ info, full_access: rows[i]!.options.full_access })));
      } catch (error) {
        for (const r of reserved) await redis.releaseRate(r.user, r.members);
        throw error;
      }
    } else {
      // Check and insert in one synchronous stretch: nothing else runs in between.
      for (const [user, group] of groupBy(rows, (r) => r.options.user_id)) {
        const since = new Date(now.getTime() - this._o.rateWindowMs).toISOString();
        const times = store.userSubmissionsSince(user, since).map((t) => Date.parse(t));
        const v = slidingWindowVerdict(
          times,
          group.length,
          this._o.limits.per_user_per_hour,
          this._o.rateWindowMs,
          now.getTime(),
        );
        if (!v.allowed) throw this._rateError(user, v.retry_after_s);
      }
      store.insert(rows);
    }
    return { infos, batchId };
  }

  private _rateError(user: string, retryAfterS: number): RateLimitError {
    const windowS = this._o.rateWindowMs / 1000;
    return new RateLimitError(user, this._o.limits.per_user_per_hour, windowS, retryAfterS);
  }

  private _requireOneShotProvider(cliTool: string): void {
    const def = this._o.providers.get(cliTool);
    if (!def) throw new UnknownProviderError(cliTool, 'no such provider');
    if (!def.one_shot) throw new UnknownProviderError(cliTool, 'this provider has no one-shot mode');
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
    state_reason: 'submitted',
    executor: null,
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
