/** Stable error codes for `{error, error_code}` bodies, WS `error` messages and IPC rejections. */
export const ERROR_CODES = [
  'VALIDATION_ERROR',
  'NOT_FOUND',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'PROCESS_LIMIT', // ProcessLimitError: too many sessions
  'RESOURCE_LIMIT', // ResourceLimitError: memory/cpu/fds over the limit
  'PROCESS_TIMEOUT', // ProcessTimeoutError
  'PROCESS_POOL', // ProcessPoolError: general spawn/supervision failure
  'BINARY_NOT_FOUND',
  'PROVIDER_UNKNOWN',
  'SESSION_NOT_RUNNING',
  'PERSISTENCE_PAUSED',
  'MALFORMED_MESSAGE',
  'UNKNOWN_MESSAGE_TYPE',
  'CONFLICT',
  /** A prompt sent with `command` was not taken by the agent (the text stayed in its input). */
  'COMMAND_NOT_SUBMITTED',
  /** A message sent through the API with `queue: false` while the agent works or others wait. */
  'AGENT_BUSY',
  /** The agent did not finish its turn within the message's timeout (the turn goes on). */
  'TURN_TIMEOUT',
  /** A usage budget with action "stop" was passed: no new turns. */
  'BUDGET_EXCEEDED',
  'INTERNAL',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  error: string;
  error_code: ErrorCode;
  /** For validation errors: which field and why. */
  details?: { path: string; message: string }[];
  /** Files the refusal is about: conflicting files of a merge, uncommitted files of a dirty checkout. */
  files?: string[];
}
