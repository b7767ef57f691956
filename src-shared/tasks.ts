import { z } from 'zod';

/** Task states from the seed documents. */
export const TASK_STATES = [
  'queued',
  'starting',
  'running',
  'paused',
  'completing',
  'passed',
  'failed',
  'error',
  'cancelled',
  'timeout',
] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINAL_TASK_STATES: ReadonlySet<TaskState> = new Set([
  'passed',
  'failed',
  'error',
  'cancelled',
  'timeout',
]);

export const SubmitTaskSchema = z.object({
  cli_tool: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/),
  prompt: z.string().min(1).max(200_000),
  working_directory: z.string().min(1).max(4096).optional(),
  priority: z.number().int().min(0).max(100).default(50),
  timeout_s: z.number().positive().max(86_400).default(600),
  mode: z.enum(['sync', 'async']).default('async'),
  user_id: z.string().min(1).max(128).default('local'),
  full_access: z.boolean().default(false),
  max_retries: z.number().int().min(0).max(10).default(2),
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export type SubmitTaskRequest = z.input<typeof SubmitTaskSchema>;
export type SubmitTaskOptions = z.output<typeof SubmitTaskSchema>;

export const SubmitTaskBodySchema = z.union([
  z.object({ tasks: z.array(SubmitTaskSchema).min(1).max(1000) }),
  SubmitTaskSchema,
]);

/**
 * How an attempt runs: `cli` — the provider's agent CLI as a one-shot process; `api` — the CLI is
 * not installed and the provider's API answers instead (claude → Anthropic Messages API; text only,
 * no tools). Null until the first attempt starts.
 */
export const TASK_EXECUTORS = ['cli', 'api'] as const;
export type TaskExecutor = (typeof TASK_EXECUTORS)[number];

export interface TaskUsage {
  input_tokens: number | null;
  output_tokens: number | null;
  cache_read_tokens: number | null;
  cost_usd: number | null;
}

export interface TaskInfo {
  task_id: string;
  cli_tool: string;
  prompt: string;
  working_directory: string;
  priority: number;
  state: TaskState;
  /** Why the task is in its state, in one line. For a finished task: what happened, e.g. "exited 0
   *  without a result message; last output line: …" or "authentication is missing or was refused
   *  (gemini.auth-method, exit 41): not retried". */
  state_reason: string;
  /** Which executor ran the latest attempt (null before one started). */
  executor: TaskExecutor | null;
  user_id: string;
  attempts: number;
  max_retries: number;
  timeout_s: number;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  result_text: string | null;
  error: string | null;
  exit_code: number | null;
  usage: TaskUsage;
  duration_ms: number | null;
  worker_id: string | null;
  metadata: Record<string, unknown>;
}

/** A task_history row (GET /tasks/{id}): every state change with its reason. */
export interface TaskHistoryEntry {
  state_from: TaskState | null;
  state_to: TaskState;
  reason: string;
  attempt: number;
  worker_id: string | null;
  at: string;
}

/** A task_outputs row: a parsed stream-json event, a raw (unparsed) line, or the final result. */
export interface TaskOutputEntry {
  attempt: number;
  seq: number;
  stream: 'stdout' | 'stderr' | 'result';
  kind: 'event' | 'raw' | 'final';
  event_type: string | null;
  content: string;
  at: string;
}

/** GET /tasks/{id}: the task with its history and (bounded) outputs. */
export interface TaskDetail {
  task: TaskInfo;
  history: TaskHistoryEntry[];
  outputs: TaskOutputEntry[];
}

export interface TaskDurationPercentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface TaskTokenTotals {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cost_usd: number;
}

export interface ProviderTaskMetrics extends TaskTokenTotals {
  cli_tool: string;
  counts: Record<TaskState, number>;
  success_rate: number | null;
  duration_ms: TaskDurationPercentiles;
}

/** GET /tasks/metrics: counts by state, success rate, duration percentiles, token and cost totals. */
export interface TaskMetrics extends TaskTokenTotals {
  counts: Record<TaskState, number>;
  total: number;
  /** passed / (passed + failed + error + timeout); null before any task was decided. */
  success_rate: number | null;
  duration_ms: TaskDurationPercentiles;
  providers: ProviderTaskMetrics[];
}
