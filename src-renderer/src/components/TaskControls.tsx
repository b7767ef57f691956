import type { TaskInfo } from '../../../src-shared/tasks.ts';
import { allowedActions, promptTitle, type TaskAction } from '../model/tasks.ts';

const LABELS: Record<TaskAction, string> = { pause: 'Pause', resume: 'Resume', cancel: 'Cancel' };

/** Pause / resume / cancel for what the task's state allows (not rendered at all for read tokens). */
export function TaskControls({ task, onAction }: { task: TaskInfo; onAction(action: TaskAction): void }) {
  const actions = allowedActions(task.state);
  if (actions.length === 0) return null;
  const title = promptTitle(task.prompt, 40);
  return (
    <span className="task-controls">
      {actions.map((action) => (
        <button
          key={action}
          type="button"
          className={`button button-small${action === 'cancel' ? ' button-danger' : ''}`}
          aria-label={`${LABELS[action]} task ${title}`}
          onClick={(e) => {
            e.stopPropagation();
            onAction(action);
          }}
        >
          {LABELS[action]}
        </button>
      ))}
    </span>
  );
}
