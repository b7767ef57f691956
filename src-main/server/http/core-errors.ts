import { ERROR_CODES, type ErrorCode } from '../../../src-shared/errors.ts';
import { HttpError } from './respond.ts';

/** HTTP status for each stable error code. */
const STATUS_BY_CODE: Record<ErrorCode, number> = {
  VALIDATION_ERROR: 400,
  MALFORMED_MESSAGE: 400,
  UNKNOWN_MESSAGE_TYPE: 400,
  PROVIDER_UNKNOWN: 400,
  BINARY_NOT_FOUND: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  SESSION_NOT_RUNNING: 409,
  COMMAND_NOT_SUBMITTED: 409,
  AGENT_BUSY: 409,
  BUDGET_EXCEEDED: 402,
  TURN_TIMEOUT: 504,
  RATE_LIMITED: 429,
  PROCESS_LIMIT: 429,
  RESOURCE_LIMIT: 429,
  PERSISTENCE_PAUSED: 503,
  PROCESS_POOL: 500,
  PROCESS_TIMEOUT: 504,
  INTERNAL: 500,
};

const CODE_BY_ERROR_NAME: Record<string, ErrorCode> = {
  ProcessLimitError: 'PROCESS_LIMIT',
  ResourceLimitError: 'RESOURCE_LIMIT',
  ProcessTimeoutError: 'PROCESS_TIMEOUT',
  ProcessPoolError: 'PROCESS_POOL',
  SessionNotFoundError: 'NOT_FOUND',
  SessionNotRunningError: 'SESSION_NOT_RUNNING',
  ValidationError: 'VALIDATION_ERROR',
};

/** The error code a core error carries (`code` / `error_code` property or its class name), else INTERNAL. */
export function errorCodeOf(error: unknown): ErrorCode {
  if (error instanceof HttpError) return error.code;
  if (error && typeof error === 'object') {
    const e = error as { code?: unknown; error_code?: unknown; name?: unknown };
    for (const candidate of [e.error_code, e.code]) {
      if (typeof candidate === 'string' && (ERROR_CODES as readonly string[]).includes(candidate)) {
        return candidate as ErrorCode;
      }
    }
    if (typeof e.name === 'string' && CODE_BY_ERROR_NAME[e.name]) return CODE_BY_ERROR_NAME[e.name]!;
  }
  return 'INTERNAL';
}

/** Turn anything a core call threw into an HttpError; internal errors get a generic message (no internals leak). */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const code = errorCodeOf(error);
  const message =
    code === 'INTERNAL' ? 'internal error' : error instanceof Error ? error.message : String(error);
  return new HttpError(STATUS_BY_CODE[code], code, message);
}

export function statusForCode(code: ErrorCode): number {
  return STATUS_BY_CODE[code];
}
