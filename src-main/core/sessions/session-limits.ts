import type { ResourceUsage } from '../../../src-shared/session.ts';
import { ProcessTimeoutError, ResourceLimitError, type SessionCoreError } from './errors.ts';
import type { ManagerLimits } from './types.ts';

export interface LimitSubject {
  usage: ResourceUsage | null;
  /** Consecutive samples over the CPU limit so far (spikes are normal). */
  cpuBreaches: number;
  startedAtMs: number;
  lastActivityMs: number;
  /** Terminal views attached: a watched session is never idle. */
  viewers: number;
}

export interface LimitBreach {
  rule: string;
  error: SessionCoreError;
}

/**
 * The first limit a session is over, or null. Updates `cpuBreaches` (CPU counts only after
 * `cpuBreachSamples` samples in a row). Idle means abandoned: no input, no output and nobody watching;
 * an agent waiting for its user in an open tab is not idle, however long the user takes.
 */
export function checkLimits(
  subject: LimitSubject,
  limits: ManagerLimits,
  now: number,
  cpuBreachSamples: number,
): LimitBreach | null {
  const u = subject.usage;
  if (u && limits.max_memory_mb !== null && u.memory_mb > limits.max_memory_mb)
    return {
      rule: 'max_memory_mb',
      error: new ResourceLimitError('memory', u.memory_mb, limits.max_memory_mb, ' MB'),
    };
  if (u && limits.max_fds !== null && u.num_fds > limits.max_fds)
    return {
      rule: 'max_fds',
      error: new ResourceLimitError('open file descriptors', u.num_fds, limits.max_fds, ''),
    };
  if (u && limits.max_cpu_percent !== null) {
    subject.cpuBreaches = u.cpu_percent > limits.max_cpu_percent ? subject.cpuBreaches + 1 : 0;
    if (subject.cpuBreaches >= cpuBreachSamples)
      return {
        rule: 'max_cpu_percent',
        error: new ResourceLimitError('CPU', u.cpu_percent, limits.max_cpu_percent, '%'),
      };
  }
  if (limits.max_run_time_s !== null && now - subject.startedAtMs > limits.max_run_time_s * 1000)
    return {
      rule: 'max_run_time_s',
      error: new ProcessTimeoutError(
        `ran ${Math.round((now - subject.startedAtMs) / 1000)} s, over the maximum run time of ${limits.max_run_time_s} s`,
      ),
    };
  if (
    limits.idle_timeout_s !== null &&
    subject.viewers === 0 &&
    now - subject.lastActivityMs > limits.idle_timeout_s * 1000
  )
    return {
      rule: 'idle_timeout_s',
      error: new ProcessTimeoutError(
        `idle for ${Math.round((now - subject.lastActivityMs) / 100) / 10} s (no input, no output, no viewer), over the idle timeout of ${limits.idle_timeout_s} s`,
      ),
    };
  return null;
}
