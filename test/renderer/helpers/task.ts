import type { TaskInfo } from '../../../src-shared/tasks.ts';

/** A TaskInfo with defaults; tests override what they look at. */
export function task(over: Partial<TaskInfo> & { task_id: string }): TaskInfo {
  return {
    cli_tool: 'claude',
    prompt: 'fix the tests',
    working_directory: '/work',
    priority: 50,
    state: 'queued',
    state_reason: 'submitted',
    executor: null,
    user_id: 'local',
    attempts: 0,
    max_retries: 2,
    timeout_s: 600,
    created_at: '2026-01-01T00:00:00.000Z',
    started_at: null,
    ended_at: null,
    result_text: null,
    error: null,
    exit_code: null,
    usage: { input_tokens: null, output_tokens: null, cache_read_tokens: null, cost_usd: null },
    duration_ms: null,
    worker_id: null,
    metadata: {},
    ...over,
  };
}
