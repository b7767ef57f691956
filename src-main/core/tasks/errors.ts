import type { ErrorCode } from '../../../src-shared/errors.ts';

/** Base for the task service's typed errors: each carries the stable REST error code and HTTP status. */
export class TaskError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(message: string, code: ErrorCode, status: number) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
  }
}

/** Over the per-user sliding-window limit; the route answers 429 with `Retry-After: retry_after_s`. */
export class RateLimitError extends TaskError {
  readonly retry_after_s: number;
  readonly limit: number;
  readonly window_s: number;
  constructor(userId: string, limit: number, windowS: number, retryAfterS: number) {
    super(
      `user ${userId} may start at most ${limit} tasks per ${windowS / 3600}h; retry in ${retryAfterS}s`,
      'RATE_LIMITED',
      429,
    );
    this.retry_after_s = retryAfterS;
    this.limit = limit;
    this.window_s = windowS;
  }
}

export class TaskNotFoundError extends TaskError {
  constructor(taskId: string) {
    super(`task ${taskId} not found`, 'NOT_FOUND', 404);
  }
}

/** A control action that the task's current state does not allow (cancel a finished task…). */
export class TaskConflictError extends TaskError {
  constructor(message: string) {
    super(message, 'CONFLICT', 409);
  }
}

export class UnknownProviderError extends TaskError {
  constructor(cliTool: string, why: string) {
    super(`${cliTool}: ${why}`, 'PROVIDER_UNKNOWN', 400);
  }
}

/** The shared queue (Redis) cannot be reached: submission fails fast instead of queueing in memory. */
export class QueueUnavailableError extends TaskError {
  constructor(detail: string) {
    super(`task queue unavailable: ${detail}`, 'INTERNAL', 503);
  }
}

/** A request the schema accepts but the service cannot (a relative working directory…). */
export class TaskValidationError extends TaskError {
  constructor(message: string) {
    super(message, 'VALIDATION_ERROR', 400);
  }
}
