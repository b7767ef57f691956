import type { TaskState } from '../../../src-shared/tasks.ts';
import type { AttemptOutcome } from './attempt-runner.ts';

export interface Verdict {
  state: Extract<TaskState, 'passed' | 'failed' | 'error' | 'cancelled' | 'timeout'> | 'requeue';
  /** For `error`: infrastructure trouble worth another attempt (with backoff) if retries remain. */
  retryable: boolean;
  reason: string;
  error: string | null;
}

/**
 * The line between `failed` and `error`:
 * - `failed` — the agent ran and reported failure (is_error, a failure event, or a non-zero exit after
 *   it produced a result). Running it again would most likely fail again: never retried.
 * - `error` — infrastructure: crash by a signal we did not send, a non-zero exit with no result at all,
 *   a transient spawn failure (EAGAIN, EMFILE…). Retried with backoff.
 * - A missing or non-executable binary is an `error` too, but a clear, permanent one: not retried.
 */
export function classifyOutcome(cliTool: string, binary: string, outcome: AttemptOutcome): Verdict {
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
    case 'exited': {
      if (end.signal) {
        const message = `${cliTool} crashed (killed by ${end.signal})${stderr}`;
        return { state: 'error', retryable: true, reason: `crashed by ${end.signal}`, error: message };
      }
      const hasResult = parsed.saw_final || parsed.is_error;
      if (end.exit_code === 0 && !parsed.is_error) {
        return { state: 'passed', retryable: false, reason: 'exited 0', error: null };
      }
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
      return {
        state: 'error',
        retryable: true,
        reason: `exit ${end.exit_code} without a result`,
        error: `${cliTool} exited with code ${end.exit_code} without a result${stderr}`,
      };
    }
  }
}

function lastLines(text: string, n: number): string {
  return text.split('\n').slice(-n).join(' | ').slice(0, 500);
}
