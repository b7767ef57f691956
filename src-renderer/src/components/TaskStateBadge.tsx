import type { TaskState } from '../../../src-shared/tasks.ts';
import { taskBadge } from '../model/tasks.ts';

/** A task's state: colour plus text (never colour alone), same look as the session badges. */
export function TaskStateBadge({ state, reason }: { state: TaskState; reason?: string | null }) {
  const badge = taskBadge(state);
  return (
    <span
      className={`badge badge-${badge.kind}${badge.animated ? ' badge-animated' : ''}`}
      data-task-state={state}
      title={reason ? `${badge.label}: ${reason}` : badge.label}
    >
      <span className="badge-dot" aria-hidden="true" />
      <span className="badge-label">{badge.label}</span>
    </span>
  );
}
