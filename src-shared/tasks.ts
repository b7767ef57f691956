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
