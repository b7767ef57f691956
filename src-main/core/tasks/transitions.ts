import type { TaskState } from '../../../src-shared/tasks.ts';

/**
 * Legal task state changes. schema/002_tasks.sql holds the same table (task_transitions) and a trigger
 * enforces it, so even a stray UPDATE cannot skip validation; test/tasks/transitions.test.ts keeps the
 * two equal. A retry goes straight back to `queued` (from `completing`, or from `starting`/`running`
 * when a lease or worker is lost), so `error` is reached only once retries are exhausted and stays final.
 */
export const TASK_TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  queued: ['starting', 'paused', 'cancelled', 'error'],
  starting: ['running', 'queued', 'cancelled', 'error', 'timeout'],
  running: ['completing', 'paused', 'queued', 'cancelled', 'error', 'timeout'],
  paused: ['queued', 'running', 'cancelled', 'error', 'completing'],
  completing: ['passed', 'failed', 'error', 'queued'],
  passed: [],
  failed: [],
  error: [],
  cancelled: [],
  timeout: [],
};

export function canTransitionTask(from: TaskState, to: TaskState): boolean {
  return TASK_TRANSITIONS[from].includes(to);
}

/** States in which a process may exist for the task on some worker. */
export const ACTIVE_TASK_STATES: ReadonlySet<TaskState> = new Set([
  'starting',
  'running',
  'paused',
  'completing',
]);
