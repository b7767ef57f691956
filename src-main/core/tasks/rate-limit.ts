/**
 * Sliding-window arithmetic shared by the SQLite and Redis limiters: given the start times (ms,
 * ascending) already in the window, may `n` more start now, and if not, when? The answer is the
 * moment enough of the oldest entries have left the window to make room for all `n`.
 */
export function slidingWindowVerdict(
  inWindowAscending: readonly number[],
  n: number,
  limit: number,
  windowMs: number,
  nowMs: number,
): { allowed: true } | { allowed: false; retry_after_s: number } {
  const live = inWindowAscending.filter((t) => t > nowMs - windowMs);
  if (live.length + n <= limit) return { allowed: true };
  if (n > limit) return { allowed: false, retry_after_s: Math.ceil(windowMs / 1000) };
  const mustLeave = live.length + n - limit;
  const freedAt = live[mustLeave - 1]! + windowMs;
  return { allowed: false, retry_after_s: Math.max(1, Math.ceil((freedAt - nowMs) / 1000)) };
}
