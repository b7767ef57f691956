export { ApiAttemptRun, type ApiAttemptSpec, apiCostUsd } from './api-runner.ts';
export type { AttemptEnd, AttemptOutcome, RunningAttempt } from './attempt-outcome.ts';
export { AttemptRun, type AttemptSpec } from './attempt-runner.ts';
export { type ClassifyContext, classifyOutcome, type Verdict } from './classify-outcome.ts';
export {
  QueueUnavailableError,
  RateLimitError,
  TaskConflictError,
  TaskError,
  TaskNotFoundError,
  TaskValidationError,
  UnknownProviderError,
} from './errors.ts';
export { type ExecutorChoice, type ExecutorPolicy, selectExecutor } from './executor-select.ts';
export { taskLiveEvents } from './live-events.ts';
export {
  type FatalKind,
  type FatalRule,
  getOutputFormat,
  listOutputFormats,
  type OutputFormat,
  outputFormatFor,
} from './output-formats.ts';
export { OneShotOutputParser, type ParsedResult } from './output-parser.ts';
export type { TaskRedisOptions } from './redis-queue.ts';
export {
  computeTaskMetrics,
  nearestRank,
  registerTaskCollectors,
  type TaskMetrics,
} from './task-metrics.ts';
export { type TaskRecoveryCounts, tasksRecoverer } from './task-recovery.ts';
export {
  createTaskService,
  type SubmitResult,
  type TaskDetail,
  type TaskLimits,
  type TaskService,
  type TaskServiceOptions,
} from './task-service.ts';
export type { TaskHistoryEntry, TaskOutputEntry } from './task-store.ts';
export { canTransitionTask, TASK_TRANSITIONS } from './transitions.ts';
