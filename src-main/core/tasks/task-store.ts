import type { Database } from 'better-sqlite3';
import type { z } from 'zod';
import type { Page, TaskListQuerySchema } from '../../../src-shared/rest.ts';
import type {
  SubmitTaskOptions,
  TaskExecutor,
  TaskHistoryEntry,
  TaskInfo,
  TaskOutputEntry,
  TaskState,
} from '../../../src-shared/tasks.ts';
import type { ParsedLine } from './output-parser.ts';

// History and output rows are the contract's shapes (GET /tasks/{id}).
export type { TaskHistoryEntry, TaskOutputEntry } from '../../../src-shared/tasks.ts';

export interface TaskMetricRow {
  task_id: string;
  attempt: number;
  cli_tool: string;
  outcome: string;
  queue_wait_ms: number | null;
  duration_ms: number | null;
  reported_duration_ms: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cost_usd: number | null;
  exit_code: number | null;
  output_lines: number;
  malformed_lines: number;
  worker_id: string | null;
}

/** Columns a transition may set besides state/state_reason. */
export interface TaskPatch {
  attempts?: number;
  available_at_ms?: number;
  started_at?: string | null;
  ended_at?: string | null;
  result_text?: string | null;
  error?: string | null;
  exit_code?: number | null;
  signal?: string | null;
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_tokens?: number | null;
  cost_usd?: number | null;
  duration_ms?: number | null;
  worker_id?: string | null;
  pid?: number | null;
  executor?: TaskExecutor | null;
}

const PATCH_COLUMNS: readonly (keyof TaskPatch)[] = [
  'attempts',
  'available_at_ms',
  'started_at',
  'ended_at',
  'result_text',
  'error',
  'exit_code',
  'signal',
  'input_tokens',
  'output_tokens',
  'cache_read_tokens',
  'cost_usd',
  'duration_ms',
  'worker_id',
  'pid',
  'executor',
];

interface TaskRow {
  task_id: string;
  seq: number;
  cli_tool: string;
  prompt: string;
  working_directory: string;
  priority: number;
  state: TaskState;
  state_reason: string;
  user_id: string;
  attempts: number;
  max_retries: number;
  timeout_s: number;
  full_access: number;
  metadata: string;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  result_text: string | null;
  error: string | null;
  exit_code: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cost_usd: number | null;
  duration_ms: number | null;
  worker_id: string | null;
  pid: number | null;
  executor: TaskExecutor | null;
}

export interface NewTaskRow {
  task_id: string;
  batch_id: string | null;
  options: SubmitTaskOptions & { working_directory: string };
  created_at: string;
}

/** What the service needs besides TaskInfo: the knobs that never leave the process. */
export interface StoredTask {
  info: TaskInfo;
  seq: number;
  full_access: boolean;
  pid: number | null;
  state_reason: string;
}

/**
 * The SQLite side of tasks: this instance's durable record and, without Redis, the queue itself.
 * Every read-modify-write runs in BEGIN IMMEDIATE (field notes §5.1); state changes are
 * compare-and-set on the current state, and the schema's triggers write task_history.
 */
export class TaskStore {
  private readonly _db: Database;

  constructor(db: Database) {
    this._db = db;
  }

  get db(): Database {
    return this._db;
  }

  insert(
    rows: readonly NewTaskRow[],
    initial: { state: TaskState; reason: string } = { state: 'queued', reason: 'submitted' },
  ): void {
    const maxSeq = this._db.prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM tasks');
    const insert =
      this._db.prepare(`INSERT INTO tasks (task_id, seq, batch_id, cli_tool, prompt, working_directory,
      priority, state, state_reason, user_id, mode, full_access, max_retries, timeout_s, metadata, created_at, updated_at)
      VALUES (@task_id, @seq, @batch_id, @cli_tool, @prompt, @working_directory, @priority, @state, @reason, @user_id,
      @mode, @full_access, @max_retries, @timeout_s, @metadata, @created_at, @created_at)`);
    this._db
      .transaction(() => {
        let seq = (maxSeq.get() as { s: number }).s;
        for (const row of rows) {
          const o = row.options;
          insert.run({
            task_id: row.task_id,
            seq: ++seq,
            batch_id: row.batch_id,
            cli_tool: o.cli_tool,
            prompt: o.prompt,
            working_directory: o.working_directory,
            priority: o.priority,
            state: initial.state,
            reason: initial.reason,
            user_id: o.user_id,
            mode: o.mode,
            full_access: o.full_access ? 1 : 0,
            max_retries: o.max_retries,
            timeout_s: o.timeout_s,
            metadata: JSON.stringify(o.metadata),
            created_at: row.created_at,
          });
        }
      })
      .immediate();
  }

  /** Records a task first seen elsewhere (Redis mode: claimed here, submitted by another instance). */
  insertMirror(info: TaskInfo, fullAccess: boolean): void {
    this._db
      .transaction(() => {
        if (this._db.prepare('SELECT 1 FROM tasks WHERE task_id = ?').get(info.task_id)) return;
        const seq = (
          this._db.prepare('SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM tasks').get() as { s: number }
        ).s;
        this._db
          .prepare(`INSERT INTO tasks (task_id, seq, cli_tool, prompt, working_directory, priority, state, state_reason,
            user_id, full_access, attempts, max_retries, timeout_s, metadata, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, 'queued', 'submitted on another instance', ?, ?, ?, ?, ?, ?, ?, ?)`)
          .run(
            info.task_id,
            seq,
            info.cli_tool,
            info.prompt,
            info.working_directory,
            info.priority,
            info.user_id,
            fullAccess ? 1 : 0,
            info.attempts,
            info.max_retries,
            info.timeout_s,
            JSON.stringify(info.metadata),
            info.created_at,
            info.created_at,
          );
      })
      .immediate();
  }

  get(taskId: string): StoredTask | undefined {
    const row = this._db.prepare('SELECT * FROM tasks WHERE task_id = ?').get(taskId) as TaskRow | undefined;
    return row ? toStored(row) : undefined;
  }

  /**
   * Compare-and-set state change. Returns the updated task, or null when the task is not in one of
   * `from` (someone else moved it first). The transition itself is validated by the schema trigger.
   */
  transition(
    taskId: string,
    from: readonly TaskState[],
    to: TaskState,
    reason: string,
    patch: TaskPatch = {},
  ): StoredTask | null {
    return this._db
      .transaction((): StoredTask | null => {
        const current = this._db.prepare('SELECT state FROM tasks WHERE task_id = ?').get(taskId) as
          | { state: TaskState }
          | undefined;
        if (!current || !from.includes(current.state)) return null;
        this._update(taskId, { state: to, state_reason: reason, ...patch });
        return this.get(taskId) ?? null;
      })
      .immediate();
  }

  /** Non-state columns (usage figures as they stream in, pid). */
  patch(taskId: string, patch: TaskPatch): void {
    this._update(taskId, patch);
  }

  private _update(taskId: string, values: TaskPatch & { state?: TaskState; state_reason?: string }): void {
    const columns = (['state', 'state_reason', ...PATCH_COLUMNS] as const).filter((c) => c in values);
    if (columns.length === 0) return;
    const sets = [
      ...columns.map((c) => `${c} = @${c}`),
      "updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
    ];
    const params: Record<string, unknown> = { task_id: taskId };
    for (const c of columns) params[c] = (values as Record<string, unknown>)[c] ?? null;
    this._db.prepare(`UPDATE tasks SET ${sets.join(', ')} WHERE task_id = @task_id`).run(params);
  }

  /**
   * The local queue's claim: the highest-priority, oldest queued task whose provider has room,
   * moved to `starting` in the same write transaction (so two pumps can never take the same row).
   */
  claimNext(providersWithRoom: readonly string[], workerId: string, nowMs: number): StoredTask | null {
    if (providersWithRoom.length === 0) return null;
    const marks = providersWithRoom.map(() => '?').join(', ');
    const pick = this._db.prepare(
      `SELECT task_id FROM tasks INDEXED BY idx_tasks_queue WHERE state = 'queued' AND available_at_ms <= ? AND cli_tool IN (${marks})
       ORDER BY priority DESC, seq LIMIT 1`,
    );
    return this._db
      .transaction((): StoredTask | null => {
        const row = pick.get(nowMs, ...providersWithRoom) as { task_id: string } | undefined;
        if (!row) return null;
        const task = this.get(row.task_id)!;
        this._update(row.task_id, {
          state: 'starting',
          state_reason: `claimed by ${workerId}`,
          attempts: task.info.attempts + 1,
          worker_id: workerId,
          started_at: new Date().toISOString(),
          ended_at: null,
        });
        return this.get(row.task_id) ?? null;
      })
      .immediate();
  }

  /** Earliest time a backed-off queued task becomes claimable (null when none waits). */
  nextAvailableAt(nowMs: number): number | null {
    const row = this._db
      .prepare("SELECT MIN(available_at_ms) AS t FROM tasks WHERE state = 'queued' AND available_at_ms > ?")
      .get(nowMs) as { t: number | null };
    return row.t;
  }

  list(query: z.output<typeof TaskListQuerySchema>): Page<TaskInfo> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.state) {
      where.push('state = ?');
      params.push(query.state);
    }
    if (query.cli_tool) {
      where.push('cli_tool = ?');
      params.push(query.cli_tool);
    }
    if (query.user_id) {
      where.push('user_id = ?');
      params.push(query.user_id);
    }
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = (
      this._db.prepare(`SELECT COUNT(*) AS n FROM tasks ${clause}`).get(...params) as { n: number }
    ).n;
    const rows = this._db
      .prepare(`SELECT * FROM tasks ${clause} ORDER BY created_at DESC, seq DESC LIMIT ? OFFSET ?`)
      .all(...params, query.limit, query.offset) as TaskRow[];
    return { items: rows.map((r) => toStored(r).info), total, limit: query.limit, offset: query.offset };
  }

  history(taskId: string): TaskHistoryEntry[] {
    return this._db
      .prepare(
        'SELECT state_from, state_to, reason, attempt, worker_id, at FROM task_history WHERE task_id = ? ORDER BY id',
      )
      .all(taskId) as TaskHistoryEntry[];
  }

  outputs(taskId: string, limit = 1000): TaskOutputEntry[] {
    return this._db
      .prepare(
        `SELECT attempt, seq, stream, kind, event_type, content, at FROM task_outputs WHERE task_id = ?
         ORDER BY attempt, seq LIMIT ?`,
      )
      .all(taskId, limit) as TaskOutputEntry[];
  }

  appendOutputs(
    taskId: string,
    attempt: number,
    lines: readonly (ParsedLine & { seq: number; stream: 'stdout' | 'stderr' | 'result' })[],
  ): void {
    if (lines.length === 0) return;
    const insert = this._db.prepare(
      'INSERT INTO task_outputs (task_id, attempt, seq, stream, kind, event_type, content) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this._db
      .transaction(() => {
        for (const l of lines) insert.run(taskId, attempt, l.seq, l.stream, l.kind, l.event_type, l.content);
      })
      .immediate();
  }

  recordFinalText(taskId: string, attempt: number, seq: number, text: string): void {
    this._db
      .prepare(
        "INSERT INTO task_outputs (task_id, attempt, seq, stream, kind, content) VALUES (?, ?, ?, 'result', 'final', ?)",
      )
      .run(taskId, attempt, seq, text);
  }

  recordMetric(m: TaskMetricRow): void {
    this._db
      .prepare(`INSERT OR REPLACE INTO task_metrics (task_id, attempt, cli_tool, outcome, queue_wait_ms, duration_ms,
        reported_duration_ms, input_tokens, output_tokens, cache_read_tokens, cost_usd, exit_code, output_lines,
        malformed_lines, worker_id) VALUES (@task_id, @attempt, @cli_tool, @outcome, @queue_wait_ms, @duration_ms,
        @reported_duration_ms, @input_tokens, @output_tokens, @cache_read_tokens, @cost_usd, @exit_code, @output_lines,
        @malformed_lines, @worker_id)`)
      .run(m);
  }

  /** created_at of this user's submissions since `sinceIso`, oldest first (the rate-limit window). */
  userSubmissionsSince(userId: string, sinceIso: string): string[] {
    return (
      this._db
        .prepare('SELECT created_at FROM tasks WHERE user_id = ? AND created_at > ? ORDER BY created_at')
        .all(userId, sinceIso) as { created_at: string }[]
    ).map((r) => r.created_at);
  }
}

function toStored(row: TaskRow): StoredTask {
  let metadata: Record<string, unknown> = {};
  try {
    metadata = JSON.parse(row.metadata) as Record<string, unknown>;
  } catch {
    // The CHECK constraint keeps it valid; an old row stays readable regardless.
  }
  return {
    seq: row.seq,
    full_access: row.full_access === 1,
    pid: row.pid,
    state_reason: row.state_reason,
    info: {
      task_id: row.task_id,
      cli_tool: row.cli_tool,
      prompt: row.prompt,
      working_directory: row.working_directory,
      priority: row.priority,
      state: row.state,
      state_reason: row.state_reason,
      executor: row.executor,
      user_id: row.user_id,
      attempts: row.attempts,
      max_retries: row.max_retries,
      timeout_s: row.timeout_s,
      created_at: row.created_at,
      started_at: row.started_at,
      ended_at: row.ended_at,
      result_text: row.result_text,
      error: row.error,
      exit_code: row.exit_code,
      usage: {
        input_tokens: row.input_tokens,
        output_tokens: row.output_tokens,
        cache_read_tokens: row.cache_read_tokens,
        cost_usd: row.cost_usd,
      },
      duration_ms: row.duration_ms,
      worker_id: row.worker_id,
      metadata,
    },
  };
}
