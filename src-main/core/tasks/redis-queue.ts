import { Redis } from 'ioredis';
import type { TaskInfo } from '../../../src-shared/tasks.ts';
import type { LoggerLike } from '../store/types.ts';
import { QueueUnavailableError } from './errors.ts';
import type { TaskHistoryEntry } from './task-store.ts';

export interface TaskRedisOptions {
  url: string;
  /** Key prefix; instances sharing a queue must use the same one. */
  prefix?: string;
  /** A claimed task's lease (ms). The owner renews it every lease/3; expired leases are reaped. */
  lease_ms?: number;
  /** How often this worker looks for expired leases (ms). */
  reap_ms?: number;
  /** How often an idle worker polls the queue (ms). */
  poll_ms?: number;
}

export type ControlAction = 'cancel' | 'pause' | 'resume';

export interface ClaimedTask {
  info: TaskInfo;
  full_access: boolean;
}

/** What a heartbeat learned about the tasks this worker owns. */
export interface HeartbeatResult {
  /** Leases that are no longer ours (reaped after a stall): stop these runs, someone else has them. */
  lost: string[];
  /** Control requests other instances left for our tasks. */
  controls: { task_id: string; action: ControlAction }[];
}

/**
 * The shared queue. Keys (default prefix `autodev:tasks:`):
 *   q:<cli_tool>   ZSET  queued ids; score = (100 - priority) * 1e12 + seq → ZPOPMIN order is
 *                        priority first, FIFO within a priority (seq from INCR seq)
 *   delayed        ZSET  retries waiting out their backoff; score = ready time (ms)
 *   t:<id>         HASH  json (TaskInfo), score, cli_tool, full_access, owner, held, control
 *   h:<id>         LIST  history entries (JSON), capped
 *   lease:<id>     STRING owner worker id, PX lease — exists exactly while the lease is valid
 *   leases         ZSET  leased ids by expiry, so the reaper does not scan every task
 *   index          ZSET  every id by seq (GET /tasks)
 *   rate:<user>    ZSET  submission times in the sliding window
 *   events         channel of task changes (JSON), so every instance can forward them
 * All multi-key changes are Lua scripts: atomic, and the time is Redis's own (TIME), so workers'
 * clocks never disagree about a lease. Scripts build some key names from data, so this needs a single
 * Redis (or a proxy that routes by prefix), not Redis Cluster.
 */
const LUA_NOW = `local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// KEYS: delayed, leases, q:<tool>... ARGV: prefix, worker, lease_ms
const CLAIM = `${LUA_NOW}
local prefix, worker, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  local h = prefix .. 't:' .. id
  local score, tool = redis.call('HGET', h, 'score'), redis.call('HGET', h, 'cli_tool')
  if score and tool then redis.call('ZADD', prefix .. 'q:' .. tool, score, id) end
end
local bestKey, bestScore = nil, nil
for i = 3, #KEYS do
  local head = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
  if head[2] and (bestScore == nil or tonumber(head[2]) < bestScore) then
    bestKey, bestScore = KEYS[i], tonumber(head[2])
  end
end
if bestKey == nil then return nil end
local popped = redis.call('ZPOPMIN', bestKey)
local id = popped[1]
local h = prefix .. 't:' .. id
redis.call('SET', prefix .. 'lease:' .. id, worker, 'PX', lease)
redis.call('ZADD', KEYS[2], now + lease, id)
redis.call('HSET', h, 'owner', worker)
return { id, redis.call('HGET', h, 'json'), redis.call('HGET', h, 'full_access') }`;

// KEYS: leases. ARGV: prefix, worker, lease_ms, ids...
const HEARTBEAT = `${LUA_NOW}
local prefix, worker, lease = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
for i = 4, #ARGV do
  local id = ARGV[i]
  local lk = prefix .. 'lease:' .. id
  if redis.call('GET', lk) == worker then
    redis.call('PEXPIRE', lk, lease)
    redis.call('ZADD', KEYS[1], now + lease, id)
    local control = redis.call('HGET', prefix .. 't:' .. id, 'control')
    if control then
      redis.call('HDEL', prefix .. 't:' .. id, 'control')
      table.insert(out, id); table.insert(out, control)
    end
  else
    table.insert(out, id); table.insert(out, 'lost')
  end
end
return out`;

// Owner writes task state. KEYS: t:<id>, h:<id>. ARGV: worker, json, history-json
const SAVE_OWNED = `if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'json', ARGV[2])
if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[3]); redis.call('LTRIM', KEYS[2], -500, -1) end
return 1`;

// Owner hands the task back. KEYS: t:<id>, h:<id>, leases, delayed. ARGV: worker, id, json, history, prefix, mode, delay_ms
const FINISH = `${LUA_NOW}
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('DEL', ARGV[5] .. 'lease:' .. ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('HSET', KEYS[1], 'json', ARGV[3], 'owner', '')
redis.call('HDEL', KEYS[1], 'control')
if ARGV[4] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[4]); redis.call('LTRIM', KEYS[2], -500, -1) end
if ARGV[6] == 'retry' then
  local delay = tonumber(ARGV[7])
  if delay > 0 then
    redis.call('ZADD', KEYS[4], now + delay, ARGV[2])
  else
    local tool = redis.call('HGET', KEYS[1], 'cli_tool')
    redis.call('ZADD', ARGV[5] .. 'q:' .. tool, redis.call('HGET', KEYS[1], 'score'), ARGV[2])
  end
end
return 1`;

// KEYS: leases. ARGV: prefix, now_iso. Returns reaped ids with their new state.
const REAP = `${LUA_NOW}
local prefix = ARGV[1]
local out = {}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 200)
for _, id in ipairs(expired) do
  if redis.call('EXISTS', prefix .. 'lease:' .. id) == 0 then
    redis.call('ZREM', KEYS[1], id)
    local h = prefix .. 't:' .. id
    local raw = redis.call('HGET', h, 'json')
    if raw then
      local task = cjson.decode(raw)
      local from = task.state
      local previous = task.worker_id
      local reason
      if task.attempts > task.max_retries then
        task.state = 'error'
        task.error = 'worker ' .. tostring(previous) .. ' lost its lease on the last attempt'
        task.ended_at = ARGV[2]
        reason = task.error
      else
        task.state = 'queued'
        reason = 'lease of worker ' .. tostring(previous) .. ' expired; back in the queue'
        redis.call('ZADD', prefix .. 'q:' .. redis.call('HGET', h, 'cli_tool'), redis.call('HGET', h, 'score'), id)
      end
      task.worker_id = cjson.null
      task.state_reason = reason
      local json = cjson.encode(task)
      redis.call('HSET', h, 'json', json, 'owner', '')
      redis.call('HDEL', h, 'control')
      redis.call('RPUSH', prefix .. 'h:' .. id, cjson.encode({ state_from = from, state_to = task.state,
        reason = reason, attempt = task.attempts, worker_id = cjson.null, at = ARGV[2] }))
      table.insert(out, json)
    end
  end
end
return out`;

// Unowned queued task: cancel / hold / release. KEYS: t:<id>, h:<id>, delayed. ARGV: prefix, id, action, now_iso, reason
const QUEUED_CONTROL = `local raw = redis.call('HGET', KEYS[1], 'json')
if not raw then return nil end
if redis.call('HGET', KEYS[1], 'owner') ~= '' then return { 'owned', raw } end
local task = cjson.decode(raw)
local tool = redis.call('HGET', KEYS[1], 'cli_tool')
local qkey = ARGV[1] .. 'q:' .. tool
local action = ARGV[3]
local from = task.state
if action == 'resume' then
  if task.state ~= 'paused' then return { 'conflict', raw } end
  task.state = 'queued'
  redis.call('HDEL', KEYS[1], 'held')
  redis.call('ZADD', qkey, redis.call('HGET', KEYS[1], 'score'), ARGV[2])
else
  if task.state ~= 'queued' and task.state ~= 'paused' then return { 'conflict', raw } end
  redis.call('ZREM', qkey, ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[2])
  if action == 'cancel' then
    task.state = 'cancelled'
    task.ended_at = ARGV[4]
  else
    if task.state == 'paused' then return { 'conflict', raw } end
    task.state = 'paused'
    redis.call('HSET', KEYS[1], 'held', '1')
  end
end
task.state_reason = ARGV[5]
local json = cjson.encode(task)
redis.call('HSET', KEYS[1], 'json', json)
redis.call('RPUSH', KEYS[2], cjson.encode({ state_from = from, state_to = task.state, reason = ARGV[5],
  attempt = task.attempts, worker_id = cjson.null, at = ARGV[4] }))
return { 'ok', json }`;

// KEYS: rate:<user>. ARGV: window_ms, limit, n, member...
const RATE = `${LUA_NOW}
local window, limit, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local live = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local count = #live / 2
if count + n <= limit then
  for i = 4, #ARGV do redis.call('ZADD', KEYS[1], now, ARGV[i]) end
  redis.call('PEXPIRE', KEYS[1], window)
  return { 1, now }
end
local times = { 0, now }
for i = 2, #live, 2 do table.insert(times, tonumber(live[i])) end
return times`;

export class RedisTaskQueue {
  readonly prefix: string;
  readonly leaseMs: number;
  readonly reapMs: number;
  readonly pollMs: number;
  private readonly _redis: Redis;
  private readonly _sub: Redis;
  private readonly _logger: LoggerLike;
  private _lastError = '';

  constructor(options: TaskRedisOptions, logger: LoggerLike) {
    this.prefix = options.prefix ?? 'autodev:tasks:';
    this.leaseMs = options.lease_ms ?? 30_000;
    this.reapMs = options.reap_ms ?? Math.max(250, Math.floor(this.leaseMs / 3));
    this.pollMs = options.poll_ms ?? 500;
    this._logger = logger;
    // Fail fast (field notes §5.2): no offline queue, one retry per request, a command timeout,
    // never resend a half-sent command, reconnect with capped backoff, and always an error listener.
    const common = {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 1500,
      connectTimeout: 2000,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times: number) => Math.min(30_000, 200 * 2 ** Math.min(times, 8)),
    };
    this._redis = new Redis(options.url, common);
    this._sub = new Redis(options.url, { ...common, commandTimeout: undefined });
    for (const [name, client] of [
      ['queue', this._redis],
      ['events', this._sub],
    ] as const) {
      client.on('error', (error: Error) => {
        // One line per distinct failure, not one per reconnect attempt.
        if (error.message !== this._lastError) {
          this._lastError = error.message;
          this._logger.error('task queue redis error', { client: name, error: error.message });
        }
      });
      client.on('ready', () => {
        if (this._lastError) this._logger.info('task queue redis connected', { client: name });
        this._lastError = '';
      });
    }
  }

  get connected(): boolean {
    return this._redis.status === 'ready';
  }

  /** Connects both clients; never throws (a down Redis shows up as QueueUnavailableError later). */
  async connect(onEvent: (task: TaskInfo, origin: string) => void): Promise<void> {
    this._sub.on('message', (_channel: string, message: string) => {
      try {
        const { task, origin } = JSON.parse(message) as { task: TaskInfo; origin: string };
        onEvent(task, origin);
      } catch {
        // A foreign publisher on our channel: ignore.
      }
    });
    await Promise.allSettled([
      this._redis.connect(),
      this._sub.connect().then(() => this._sub.subscribe(`${this.prefix}events`)),
    ]);
  }

  async close(): Promise<void> {
    for (const client of [this._sub, this._redis]) {
      try {
        await client.quit();
      } catch {
        client.disconnect();
      }
    }
  }

  private async _call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw new QueueUnavailableError(`${what}: ${(error as Error).message}`);
    }
  }

  private _eval(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this._redis.eval(script, keys.length, ...keys, ...args);
  }

  /** Sliding-window rate check and reservation for `members` (one per task) in one step. */
  async reserveRate(
    userId: string,
    members: string[],
    limit: number,
    windowMs: number,
  ): Promise<{ allowed: true } | { allowed: false; now: number; times: number[] }> {
    const out = (await this._call('rate limit', () =>
      this._eval(RATE, [`${this.prefix}rate:${userId}`], [windowMs, limit, members.length, ...members]),
    )) as number[];
    if (out[0] === 1) return { allowed: true };
    return { allowed: false, now: Number(out[1]), times: out.slice(2).map(Number) };
  }

  async releaseRate(userId: string, members: string[]): Promise<void> {
    if (members.length === 0) return;
    await this._redis.zrem(`${this.prefix}rate:${userId}`, ...members).catch(() => {});
  }

  /** Adds new tasks: hash, history, index and queue entry per task, in one MULTI. */
  async enqueue(tasks: { info: TaskInfo; full_access: boolean }[]): Promise<void> {
    await this._call('enqueue', async () => {
      const seqEnd = await this._redis.incrby(`${this.prefix}seq`, tasks.length);
      const multi = this._redis.multi();
      tasks.forEach(({ info, full_access }, i) => {
        const seq = seqEnd - tasks.length + 1 + i;
        const score = (100 - info.priority) * 1e12 + seq;
        const entry: TaskHistoryEntry = {
          state_from: null,
          state_to: info.state,
          reason: 'submitted',
          attempt: 0,
          worker_id: null,
          at: info.created_at,
        };
        multi.hset(`${this.prefix}t:${info.task_id}`, {
          json: JSON.stringify(info),
          score: String(score),
          cli_tool: info.cli_tool,
          full_access: full_access ? '1' : '0',
          owner: '',
        });
        multi.rpush(`${this.prefix}h:${info.task_id}`, JSON.stringify(entry));
        multi.zadd(`${this.prefix}index`, seq, info.task_id);
        multi.zadd(`${this.prefix}q:${info.cli_tool}`, score, info.task_id);
      });
      const results = await multi.exec();
      const failed = results?.find(([error]) => error);
      if (!results || failed) throw failed?.[0] ?? new Error('transaction aborted');
    });
  }

  /** Atomically pops the best queued task among `providers` and leases it to `workerId`. */
  async claim(providers: readonly string[], workerId: string): Promise<ClaimedTask | null> {
    if (providers.length === 0) return null;
    const keys = [
      `${this.prefix}delayed`,
      `${this.prefix}leases`,
      ...providers.map((p) => `${this.prefix}q:${p}`),
    ];
    const out = (await this._call('claim', () =>
      this._eval(CLAIM, keys, [this.prefix, workerId, this.leaseMs]),
    )) as [string, string | null, string | null] | null;
    if (!out?.[1]) return null;
    return { info: JSON.parse(out[1]) as TaskInfo, full_access: out[2] === '1' };
  }

  async heartbeat(workerId: string, taskIds: readonly string[]): Promise<HeartbeatResult> {
    const result: HeartbeatResult = { lost: [], controls: [] };
    if (taskIds.length === 0) return result;
    const out = (await this._call('heartbeat', () =>
      this._eval(HEARTBEAT, [`${this.prefix}leases`], [this.prefix, workerId, this.leaseMs, ...taskIds]),
    )) as string[];
    for (let i = 0; i + 1 < out.length; i += 2) {
      const id = out[i]!;
      const what = out[i + 1]!;
      if (what === 'lost') result.lost.push(id);
      else result.controls.push({ task_id: id, action: what as ControlAction });
    }
    return result;
  }

  /** Writes the owner's view of a task (refused when the lease moved on). Also announces it. */
  async saveOwned(workerId: string, info: TaskInfo, history: TaskHistoryEntry | null): Promise<boolean> {
    const ok = await this._call('save', () =>
      this._eval(
        SAVE_OWNED,
        [`${this.prefix}t:${info.task_id}`, `${this.prefix}h:${info.task_id}`],
        [workerId, JSON.stringify(info), history ? JSON.stringify(history) : ''],
      ),
    );
    if (ok === 1) await this.announce(info, workerId);
    return ok === 1;
  }

  /** The owner is done with this attempt: final state, or back to the queue after `delayMs`. */
  async finish(
    workerId: string,
    info: TaskInfo,
    history: TaskHistoryEntry | null,
    mode: 'final' | 'retry',
    delayMs: number,
  ): Promise<boolean> {
    const id = info.task_id;
    const ok = await this._call('finish', () =>
      this._eval(
        FINISH,
        [`${this.prefix}t:${id}`, `${this.prefix}h:${id}`, `${this.prefix}leases`, `${this.prefix}delayed`],
        [
          workerId,
          id,
          JSON.stringify(info),
          history ? JSON.stringify(history) : '',
          this.prefix,
          mode,
          delayMs,
        ],
      ),
    );
    if (ok === 1) await this.announce(info, workerId);
    return ok === 1;
  }

  /** Returns tasks whose lease expired to the queue (or ends them when out of attempts). */
  async reap(): Promise<TaskInfo[]> {
    const out = (await this._call('reap', () =>
      this._eval(REAP, [`${this.prefix}leases`], [this.prefix, new Date().toISOString()]),
    )) as string[];
    const tasks = out.map((json) => JSON.parse(json) as TaskInfo);
    for (const task of tasks) await this.announce(task, 'reaper');
    return tasks;
  }

  /** cancel / pause (hold) / resume a task nobody owns. */
  async controlQueued(
    taskId: string,
    action: ControlAction,
    reason: string,
  ): Promise<{ status: 'ok' | 'owned' | 'conflict'; task: TaskInfo } | null> {
    const out = (await this._call('control', () =>
      this._eval(
        QUEUED_CONTROL,
        [`${this.prefix}t:${taskId}`, `${this.prefix}h:${taskId}`, `${this.prefix}delayed`],
        [this.prefix, taskId, action, new Date().toISOString(), reason],
      ),
    )) as [string, string] | null;
    if (!out) return null;
    const task = JSON.parse(out[1]) as TaskInfo;
    if (out[0] === 'ok') await this.announce(task, 'control');
    return { status: out[0] as 'ok' | 'owned' | 'conflict', task };
  }

  /** Leaves a control request for the owning worker (picked up at its next heartbeat) and nudges it. */
  async requestControl(taskId: string, action: ControlAction): Promise<void> {
    await this._call('control', () => this._redis.hset(`${this.prefix}t:${taskId}`, 'control', action));
  }

  async get(taskId: string): Promise<TaskInfo | null> {
    const json = await this._call('get', () => this._redis.hget(`${this.prefix}t:${taskId}`, 'json'));
    return json ? (JSON.parse(json) as TaskInfo) : null;
  }

  async history(taskId: string): Promise<TaskHistoryEntry[]> {
    const rows = await this._call('history', () => this._redis.lrange(`${this.prefix}h:${taskId}`, 0, -1));
    return rows.map((r) => JSON.parse(r) as TaskHistoryEntry);
  }

  /** Newest first; filters are applied to at most `scanLimit` of the newest tasks. */
  async list(
    filter: (t: TaskInfo) => boolean,
    limit: number,
    offset: number,
    scanLimit = 5000,
  ): Promise<{ items: TaskInfo[]; total: number }> {
    return this._call('list', async () => {
      const ids = await this._redis.zrevrange(`${this.prefix}index`, 0, scanLimit - 1);
      const matches: TaskInfo[] = [];
      for (let i = 0; i < ids.length; i += 200) {
        const pipe = this._redis.pipeline();
        for (const id of ids.slice(i, i + 200)) pipe.hget(`${this.prefix}t:${id}`, 'json');
        for (const [, json] of (await pipe.exec()) ?? []) {
          if (typeof json !== 'string') continue;
          const task = JSON.parse(json) as TaskInfo;
          if (filter(task)) matches.push(task);
        }
      }
      return { items: matches.slice(offset, offset + limit), total: matches.length };
    });
  }

  async queueDepth(providers: readonly string[]): Promise<number> {
    const pipe = this._redis.pipeline();
    for (const p of providers) pipe.zcard(`${this.prefix}q:${p}`);
    pipe.zcard(`${this.prefix}delayed`);
    const out = (await this._call('depth', () => pipe.exec())) ?? [];
    return out.reduce((acc, [, n]) => acc + (typeof n === 'number' ? n : 0), 0);
  }

  async announce(task: TaskInfo, origin: string): Promise<void> {
    await this._redis
      .publish(`${this.prefix}events`, JSON.stringify({ task, origin }))
      .catch((error: Error) => this._logger.warn('task event publish failed', { error: error.message }));
  }
}
