import type { ErrorCode } from '../../../src-shared/errors.ts';

/**
 * Errors of the session core (the seed documents' ProcessLimitError, ResourceLimitError,
 * ProcessTimeoutError, ProcessPoolError). Each carries a stable `error_code` so the REST/WS/IPC
 * boundaries can answer `{error, error_code}` without string matching.
 */
export class SessionCoreError extends Error {
  readonly error_code: ErrorCode;
  constructor(message: string, errorCode: ErrorCode) {
    super(message);
    this.name = new.target.name;
    this.error_code = errorCode;
  }
}

/** Too many live sessions (the manager's `max_sessions`). */
export class ProcessLimitError extends SessionCoreError {
  constructor(message: string) {
    super(message, 'PROCESS_LIMIT');
  }
}

/** A session's process tree went over a memory / CPU / fd limit. The message states the figure. */
export class ResourceLimitError extends SessionCoreError {
  readonly limit: string;
  readonly value: number;
  readonly max: number;
  constructor(limit: string, value: number, max: number, unit: string) {
    super(
      `${limit} ${formatFigure(value)}${unit} over the limit of ${formatFigure(max)}${unit}`,
      'RESOURCE_LIMIT',
    );
    this.limit = limit;
    this.value = value;
    this.max = max;
  }
}

/** A time limit fired (idle timeout, maximum run time). */
export class ProcessTimeoutError extends SessionCoreError {
  constructor(message: string) {
    super(message, 'PROCESS_TIMEOUT');
  }
}

/** General spawn/supervision failure (spawn refused, bad working directory…). */
export class ProcessPoolError extends SessionCoreError {
  constructor(message: string) {
    super(message, 'PROCESS_POOL');
  }
}

export class SessionNotFoundError extends SessionCoreError {
  constructor(sessionId: string) {
    super(`session ${sessionId} not found`, 'NOT_FOUND');
  }
}

export class SessionNotRunningError extends SessionCoreError {
  constructor(sessionId: string, state: string) {
    super(`session ${sessionId} is not running (state ${state})`, 'SESSION_NOT_RUNNING');
  }
}

export class ProviderUnknownError extends SessionCoreError {
  constructor(providerId: string) {
    super(`unknown provider "${providerId}"`, 'PROVIDER_UNKNOWN');
  }
}

function formatFigure(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
