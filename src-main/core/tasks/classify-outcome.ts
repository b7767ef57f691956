import type { TaskState } from '../../../src-shared/tasks.ts';
import type { AttemptEnd, AttemptOutcome } from './attempt-outcome.ts';
import type { FatalKind, FatalRule, OutputFormat } from './output-formats.ts';

export interface Verdict {
  state: Extract<TaskState, 'passed' | 'failed' | 'error' | 'cancelled' | 'timeout'> | 'requeue';
  /** For `error`: infrastructure trouble worth another attempt (with backoff) if retries remain. */
  retryable: boolean;
  /** Why, in one line: becomes the task's state_reason and the history entry. */
  reason: string;
  error: string | null;
}

export interface ClassifyContext {
  cliTool: string;
  binary: string;
  /** The provider's output dialect: its fatal rules decide what is never retried. */
  format: OutputFormat;
}

const FATAL_SENTENCE: Readonly<Record<FatalKind, string>> = {
  auth: 'authentication is missing or was refused',
  config: 'configuration problem',
  trust: 'the working directory is not trusted',
};

/**
 * HTTP answers of the API executor that no retry can fix (the SDK has already retried 408, 409, 429
 * and 5xx). Anything else, and a connection that failed outright, is infrastructure: `error`, retried.
 */
const API_FATAL_STATUS: Readonly<Record<number, FatalKind>> = {
  400: 'config',
  401: 'auth',
  402: 'config',
  403: 'auth',
  404: 'config',
  413: 'config',
  422: 'config',
};

/**
 * The line between `failed` and `error`:
 * - `failed` — the agent ran and reported failure (is_error, a failure event, or a non-zero exit after
 *   it produced a result), or it hit a problem only the user can fix (a fatal rule of its dialect:
 *   authentication, configuration, an untrusted folder; an API 4xx). Never retried.
 * - `error` — infrastructure: crash by a signal we did not send, a non-zero exit with no result at all,
 *   a transient spawn failure (EAGAIN, EMFILE…), an API 5xx/529 or connection failure. Retried with
 *   backoff.
 * - A missing or non-executable binary is an `error` too, but a clear, permanent one: not retried.
 * - `passed` without a result says what happened instead (exit 0, no result message, last line).
 */
export function classifyOutcome(ctx: ClassifyContext, outcome: AttemptOutcome): Verdict {
  const { cliTool, binary } = ctx;
  const { end, parsed } = outcome;
  const stderr = outcome.stderr_tail ? `: ${lastLines(outcome.stderr_tail, 3)}` : '';
  switch (end.kind) {
    case 'spawn_failed':
      if (end.code === 'ENOENT') {
        const message = `${binary} is not installed or not on PATH`;
        return { state: 'error', retryable: false, reason: message, error: message };
      }
      if (end.code === 'EACCES') {
        const message = `${binary} is not executable (EACCES)`;
        return { state: 'error', retryable: false, reason: message, error: message };
      }
      return {
        state: 'error',
        retryable: true,
        reason: `spawn failed: ${end.code}`,
        error: `${cliTool} could not be started: ${end.message}`,
      };
    case 'timeout':
      return { state: 'timeout', retryable: false, reason: 'run-time limit reached', error: 'timed out' };
    case 'cancelled':
      return { state: 'cancelled', retryable: false, reason: end.reason, error: null };
    case 'released':
      return { state: 'requeue', retryable: false, reason: end.reason, error: null };
    case 'api_finished':
      return classifyApiAnswer(cliTool, end, outcome);
    case 'api_error':
      return classifyApiError(cliTool, end);
    case 'exited': {
      if (end.signal) {
        const message = `${cliTool} crashed (killed by ${end.signal})${stderr}`;
        return { state: 'error', retryable: true, reason: `crashed by ${end.signal}`, error: message };
      }
      const succeeded = end.exit_code === 0 && !parsed.is_error;
      if (succeeded && parsed.result_text !== null) {
        return { state: 'passed', retryable: false, reason: 'exited 0', error: null };
      }
      const fatal = matchFatal(ctx.format.fatal, outcome, end.exit_code);
      if (fatal) {
        const sentence = FATAL_SENTENCE[fatal.rule.kind];
        return {
          state: 'failed',
          retryable: false,
          reason: `${sentence} (${fatal.rule.id}, exit ${end.exit_code}): not retried`,
          error: `${cliTool}: ${sentence} (exit ${end.exit_code}; not retried): ${fatal.line}`,
        };
      }
      if (succeeded) {
        return { state: 'passed', retryable: false, reason: describeNoResult(outcome), error: null };
      }
      const hasResult = parsed.saw_final || parsed.is_error;
      if (end.exit_code === 0 || hasResult) {
        const message = parsed.error ?? (parsed.is_error ? 'the agent reported an error' : null);
        return {
          state: 'failed',
          retryable: false,
          reason: parsed.is_error
            ? `agent reported failure (exit ${end.exit_code})`
            : `exit ${end.exit_code}`,
          error: message ?? `exit code ${end.exit_code}${stderr}`,
        };
      }
      const lastLine = outcome.last_line ? `; last output line: ${outcome.last_line}` : '';
      return {
        state: 'error',
        retryable: true,
        reason: `exit ${end.exit_code} without a result${lastLine}`,
        error: `${cliTool} exited with code ${end.exit_code} without a result${stderr}`,
      };
    }
  }
}

function classifyApiAnswer(
  cliTool: string,
  end: Extract<AttemptEnd, { kind: 'api_finished' }>,
  outcome: AttemptOutcome,
): Verdict {
  const stop = end.stop_reason ?? 'unknown';
  if (stop === 'refusal') {
    return {
      state: 'failed',
      retryable: false,
      reason: 'the model declined to answer (stop_reason: refusal)',
      error: `${cliTool} API: the model declined to answer`,
    };
  }
  if (outcome.parsed.result_text === null) {
    return {
      state: 'passed',
      retryable: false,
      reason: `answered through the API with no text (stop_reason: ${stop})`,
      error: null,
    };
  }
  const truncated = stop === 'max_tokens' ? ', cut off at max_tokens' : '';
  return {
    state: 'passed',
    retryable: false,
    reason: `answered through the API (stop_reason: ${stop}${truncated})`,
    error: null,
  };
}

function classifyApiError(cliTool: string, end: Extract<AttemptEnd, { kind: 'api_error' }>): Verdict {
  const what = [end.status !== null ? `HTTP ${end.status}` : null, end.error_type]
    .filter((p) => p !== null)
    .join(' ');
  const label = what.length > 0 ? what : 'connection failed';
  const kind = end.status !== null ? API_FATAL_STATUS[end.status] : undefined;
  if (kind) {
    const sentence = FATAL_SENTENCE[kind];
    return {
      state: 'failed',
      retryable: false,
      reason: `${sentence} (API ${label}): not retried`,
      error: `${cliTool} API: ${sentence} (${label}; not retried): ${end.message}`,
    };
  }
  return {
    state: 'error',
    retryable: true,
    reason: `API error (${label})`,
    error: `${cliTool} API error (${label}): ${end.message}`,
  };
}

/** The first fatal rule of the dialect that fits: by exit code, or by a line of the unstructured
 *  output or the reported error. */
function matchFatal(
  rules: readonly FatalRule[],
  outcome: AttemptOutcome,
  exitCode: number | null,
): { rule: FatalRule; line: string } | null {
  const { parsed } = outcome;
  const text = [outcome.unstructured_tail, parsed.error, parsed.is_error ? parsed.result_text : null]
    .filter((t): t is string => typeof t === 'string' && t.length > 0)
    .join('\n');
  for (const rule of rules) {
    if (rule.pattern) {
      const match = new RegExp(rule.pattern, 'i').exec(text);
      if (match) return { rule, line: lineAround(text, match.index) };
    }
    if (rule.exit_codes && exitCode !== null && rule.exit_codes.includes(exitCode)) {
      return { rule, line: outcome.last_line ?? `exit code ${exitCode}` };
    }
  }
  return null;
}

/** For a run that ended well but left no result: what we saw instead. */
export function describeNoResult(outcome: AttemptOutcome): string {
  const end = outcome.end;
  const how = end.kind === 'exited' ? `exited ${end.exit_code ?? '?'}` : 'ended';
  const message = outcome.parsed.events > 0 ? 'without a result message' : 'without a result';
  if (!outcome.last_line) return `${how} without any output`;
  return `${how} ${message}; last output line: ${outcome.last_line}`;
}

function lineAround(text: string, index: number): string {
  const start = text.lastIndexOf('\n', index) + 1;
  const stop = text.indexOf('\n', index);
  return text
    .slice(start, stop === -1 ? undefined : stop)
    .trim()
    .slice(0, 500);
}

function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join(' | ').slice(0, 500);
}
