import { FINAL_TASK_STATES, type TaskDetail, type TaskInfo } from '../../../src-shared/tasks.ts';
import { formatAge } from '../model/session-filter.ts';
import {
  formatCost,
  formatCount,
  formatDuration,
  promptTitle,
  type TaskAction,
  taskElapsed,
} from '../model/tasks.ts';
import { ProviderIcon } from './ProviderIcon.tsx';
import { TaskControls } from './TaskControls.tsx';
import { TaskStateBadge } from './TaskStateBadge.tsx';

/** Most outputs of a long run are progress events: the panel shows the last ones. */
const MAX_OUTPUT_ROWS = 200;

export interface TaskDetailPanelProps {
  /** The live copy (updated by events); `detail` adds history and outputs. */
  task: TaskInfo;
  detail: TaskDetail | null;
  error: string | null;
  readOnly: boolean;
  now: number;
  onAction(action: TaskAction): void;
  onClose(): void;
}

/** One task: state history with reasons, result, usage, duration, error and its stored outputs. */
export function TaskDetailPanel({
  task,
  detail,
  error,
  readOnly,
  now,
  onAction,
  onClose,
}: TaskDetailPanelProps) {
  const outputs = detail?.outputs ?? [];
  const shown = outputs.slice(-MAX_OUTPUT_ROWS);
  const usage = task.usage;
  const lastReason = detail?.history.at(-1)?.reason ?? null;
  return (
    <aside className="session-detail task-detail" aria-label={`Task ${promptTitle(task.prompt, 40)}`}>
      <header className="detail-header">
        <ProviderIcon provider={task.cli_tool} size={22} />
        <h2 title={task.prompt}>{promptTitle(task.prompt, 60)}</h2>
        <TaskStateBadge state={task.state} reason={lastReason} />
        <button type="button" className="icon-button" aria-label="Close task details" onClick={onClose}>
          ×
        </button>
      </header>
      {!readOnly ? <TaskControls task={task} onAction={onAction} /> : null}
      {error ? (
        <p className="hint hint-warn" role="alert">
          Could not load the task's history: {error}
        </p>
      ) : null}
      {task.error ? (
        <p className="hint hint-danger" data-field="task-error">
          {task.error}
        </p>
      ) : null}
      <dl className="detail-grid">
        <dt>Task</dt>
        <dd className="mono">{task.task_id}</dd>
        <dt>Provider</dt>
        <dd>{task.cli_tool}</dd>
        {task.executor ? (
          <>
            <dt>Executor</dt>
            <dd data-field="executor">
              {task.executor === 'api' ? 'API (the CLI is not installed)' : 'CLI'}
            </dd>
          </>
        ) : null}
        <dt>Directory</dt>
        <dd className="mono">{task.working_directory}</dd>
        <dt>Priority</dt>
        <dd>{task.priority}</dd>
        <dt>Attempts</dt>
        <dd>
          {task.attempts} of {task.max_retries + 1}
        </dd>
        <dt>Created</dt>
        <dd>{formatAge(task.created_at)} ago</dd>
        <dt>Duration</dt>
        <dd data-field="duration">
          {formatDuration(taskElapsed(task, now))}
          {task.duration_ms === null && task.started_at && !task.ended_at ? ' so far' : ''}
          <span className="muted"> (timeout {formatDuration(task.timeout_s * 1000)})</span>
        </dd>
        <dt>Exit code</dt>
        <dd>{task.exit_code ?? '—'}</dd>
        <dt>Tokens</dt>
        <dd data-field="tokens">
          {formatCount(usage.input_tokens)} in · {formatCount(usage.output_tokens)} out ·{' '}
          {formatCount(usage.cache_read_tokens)} cache
        </dd>
        <dt>Cost</dt>
        <dd data-field="cost">{formatCost(usage.cost_usd)}</dd>
        {task.worker_id ? (
          <>
            <dt>Worker</dt>
            <dd className="mono">{task.worker_id}</dd>
          </>
        ) : null}
      </dl>
      <h3>Result</h3>
      {task.result_text !== null ? (
        <pre className="task-result" data-field="result">
          {task.result_text}
        </pre>
      ) : FINAL_TASK_STATES.has(task.state) ? (
        <p className="muted" data-field="no-result">
          No result: {task.state_reason}
        </p>
      ) : (
        <p className="muted">No result yet.</p>
      )}
      <h3>Prompt</h3>
      <pre className="task-result">{task.prompt}</pre>
      <h3>History</h3>
      {detail ? (
        <ol className="task-history">
          {detail.history.map((h) => (
            <li key={`${h.at}-${h.state_from}-${h.state_to}-${h.attempt}`}>
              <span className="mono">
                {h.state_from ?? '∅'} → {h.state_to}
              </span>{' '}
              <span>{h.reason}</span>{' '}
              <span className="muted">
                · attempt {h.attempt} · {new Date(h.at).toLocaleTimeString()}
              </span>
            </li>
          ))}
        </ol>
      ) : (
        <p className="muted">Loading…</p>
      )}
      <h3>
        Output{' '}
        {outputs.length > shown.length ? (
          <span className="muted">
            (last {shown.length} of {outputs.length})
          </span>
        ) : null}
      </h3>
      {shown.length === 0 ? (
        <p className="muted">{detail ? 'No output recorded.' : 'Loading…'}</p>
      ) : (
        <ol className="task-outputs mono">
          {shown.map((o) => (
            <li key={`${o.attempt}-${o.seq}`} data-kind={o.kind}>
              <span className="muted">
                {o.stream}
                {o.event_type ? `:${o.event_type}` : ''}
                {o.kind === 'raw' ? ' (raw)' : ''}
              </span>{' '}
              {o.content}
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
