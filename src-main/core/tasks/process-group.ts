/**
 * Signals to a one-shot agent's whole process group. The runner spawns every agent with
 * `detached: true`, so its pid is also its process-group id and `kill(-pgid)` reaches the agent and
 * everything it started (tool subprocesses, shells) that did not move to its own session.
 */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // ESRCH: the group is gone.
  }
}

export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * SIGTERM, then SIGKILL after `graceMs` if anything of the group is still there. A stopped (paused)
 * group gets SIGCONT right after SIGTERM, or it would never act on it.
 */
export async function terminateGroup(pgid: number, graceMs: number): Promise<'gone' | 'killed'> {
  signalGroup(pgid, 'SIGTERM');
  signalGroup(pgid, 'SIGCONT');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pgid)) return 'gone';
    await new Promise((r) => setTimeout(r, 50));
  }
  signalGroup(pgid, 'SIGKILL');
  return 'killed';
}
