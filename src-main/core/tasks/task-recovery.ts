import { readFileSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import type { TaskState } from '../../../src-shared/tasks.ts';
import type { Recoverer } from '../recovery/recovery.ts';
import { signalGroup } from './process-group.ts';

export type TaskRecoveryCounts = {
  /** Queued (or held) tasks that stay in the queue. */
  requeued_queued: number;
  /** Interrupted tasks that go back to the queue because retries remain. */
  requeued_interrupted: number;
  /** Interrupted tasks out of retries: marked `error`. */
  errored: number;
  /** Leftover process groups of interrupted tasks that were killed. */
  killed_groups: number;
};

/**
 * Start-up recovery for tasks (plugs into the store's `runRecovery({ recoverers })`): the previous
 * process ended without finishing its tasks. Queued tasks simply stay queued (the table is the queue);
 * tasks that were starting/running/paused/completing were interrupted: their leftover process group
 * (agents are detached, so they can outlive us) is killed, then they are re-queued when retries remain,
 * else marked `error`. A recorded pid is only signalled when /proc shows our task marker in its
 * environment, so a recycled pid is never hit.
 */
export const tasksRecoverer = {
  name: 'tasks',
  run(db: Database): TaskRecoveryCounts {
    const counts: TaskRecoveryCounts = {
      requeued_queued: 0,
      requeued_interrupted: 0,
      errored: 0,
      killed_groups: 0,
    };
    const interrupted = db
      .prepare(
        `SELECT task_id, state, attempts, max_retries, pid FROM tasks
         WHERE state IN ('starting', 'running', 'paused', 'completing')`,
      )
      .all() as {
      task_id: string;
      state: TaskState;
      attempts: number;
      max_retries: number;
      pid: number | null;
    }[];
    for (const t of interrupted) {
      if (t.state === 'paused' && t.pid === null) continue; // a held queued task, not a run
      if (t.pid !== null && ownsProcess(t.pid, t.task_id) && signalGroup(t.pid, 'SIGKILL'))
        counts.killed_groups++;
    }
    const requeue = db.prepare(
      `UPDATE tasks SET state = 'queued', state_reason = ?, pid = NULL, worker_id = NULL, available_at_ms = 0
       WHERE task_id = ? AND state = ?`,
    );
    const fail = db.prepare(
      `UPDATE tasks SET state = 'error', state_reason = 'interrupted', error = ?, pid = NULL,
       ended_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE task_id = ? AND state = ?`,
    );
    db.transaction(() => {
      for (const t of interrupted) {
        if (t.state === 'paused' && t.pid === null) continue;
        if (t.attempts <= t.max_retries) {
          requeue.run(`interrupted by restart (was ${t.state}); re-queued`, t.task_id, t.state);
          counts.requeued_interrupted++;
        } else {
          fail.run(`interrupted by restart while ${t.state}; no retries left`, t.task_id, t.state);
          counts.errored++;
        }
      }
      counts.requeued_queued =
        (
          db
            .prepare(
              "SELECT COUNT(*) AS n FROM tasks WHERE state = 'queued' OR (state = 'paused' AND pid IS NULL)",
            )
            .get() as {
            n: number;
          }
        ).n - counts.requeued_interrupted;
    }).immediate();
    return counts;
  },
} satisfies Recoverer;

function ownsProcess(pid: number, taskId: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`AUTODEV_TASK_ID=${taskId}`);
  } catch {
    return false;
  }
}
