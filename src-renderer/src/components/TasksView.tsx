import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { ProviderSummary } from '../../../src-shared/rest.ts';
import type { SubmitTaskRequest, TaskDetail, TaskInfo, TaskMetrics } from '../../../src-shared/tasks.ts';
import { describeError } from '../api/api-error.ts';
import {
  asTaskInfo,
  formatCost,
  formatDuration,
  groupTasks,
  INITIAL_TASK_LIST,
  promptTitle,
  type TaskAction,
  taskElapsed,
  taskListReducer,
} from '../model/tasks.ts';
import { ProviderIcon } from './ProviderIcon.tsx';
import { TaskControls } from './TaskControls.tsx';
import { TaskDetailPanel } from './TaskDetailPanel.tsx';
import { TaskMetricsCharts } from './TaskMetricsCharts.tsx';
import { TaskStateBadge } from './TaskStateBadge.tsx';
import { TaskSubmitForm } from './TaskSubmitForm.tsx';

export interface TasksViewProps {
  api: AutoDevApi;
  providers: ProviderSummary[] | null;
  providersError: string | null;
  readOnly: boolean;
  selectDirectory?: () => Promise<string | null>;
}

/** Metrics and the open detail are re-read this long after a task event (a burst → one read). */
const REFRESH_DELAY_MS = 250;

/**
 * Queued one-shot agent runs: submit form, queue / running / finished lists kept live by `task`
 * events (no polling), a detail panel, and metrics charts.
 */
export function TasksView({ api, providers, providersError, readOnly, selectDirectory }: TasksViewProps) {
  const [list, dispatch] = useReducer(taskListReducer, INITIAL_TASK_LIST);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [metrics, setMetrics] = useState<TaskMetrics | null>(null);
  const [metricsError, setMetricsError] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [detail, setDetail] = useState<TaskDetail | null>(null);
  const [detailError, setDetailError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const selectedRef = useRef<string | null>(null);
  selectedRef.current = selected;

  // Only the latest metrics read may land: an older, slower answer must not overwrite a newer one.
  const metricsSeq = useRef(0);
  const loadMetrics = useCallback(() => {
    const seq = ++metricsSeq.current;
    api
      .getTaskMetrics()
      .then((m) => {
        if (seq !== metricsSeq.current) return;
        setMetrics(m);
        setMetricsError(null);
      })
      .catch((e) => seq === metricsSeq.current && setMetricsError(describeError(e)));
  }, [api]);

  const loadDetail = useCallback(
    (taskId: string) => {
      api
        .getTaskDetail(taskId)
        .then((d) => {
          if (selectedRef.current !== taskId) return;
          setDetail(d);
          setDetailError(null);
          dispatch({ type: 'loaded', tasks: [d.task] });
        })
        .catch((e) => selectedRef.current === taskId && setDetailError(describeError(e)));
    },
    [api],
  );

  // Subscribe first, then load, so no change between the two is lost.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let touchedSelected = false;
    const off = api.onEvent((event) => {
      if (event.kind !== 'task') return;
      const task = asTaskInfo(event.task);
      if (!task) return;
      dispatch({ type: 'upsert', task });
      setNow(Date.now());
      if (task.task_id === selectedRef.current) touchedSelected = true;
      // Trailing throttle, not a debounce: a steady stream of events must not postpone the re-read forever.
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        loadMetrics();
        const id = selectedRef.current;
        if (touchedSelected && id) loadDetail(id);
        touchedSelected = false;
      }, REFRESH_DELAY_MS);
    });
    let cancelled = false;
    api
      .listTasks({ limit: 500 })
      .then((page) => !cancelled && dispatch({ type: 'loaded', tasks: page.items }))
      .catch((e) => !cancelled && setLoadError(describeError(e)));
    loadMetrics();
    return () => {
      cancelled = true;
      clearTimeout(timer);
      off();
    };
  }, [api, loadMetrics, loadDetail]);

  useEffect(() => {
    setDetail(null);
    setDetailError(null);
    if (selected) loadDetail(selected);
  }, [selected, loadDetail]);

  const groups = useMemo(() => groupTasks(list.byId), [list.byId]);

  // Elapsed times of running tasks tick on screen; nothing is fetched.
  const anyRunning = groups.running.length > 0;
  useEffect(() => {
    if (!anyRunning) return;
    const id = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(id);
  }, [anyRunning]);

  const submit = async (requests: SubmitTaskRequest[]): Promise<TaskInfo[]> => {
    const tasks = await api.submitTasks(requests);
    for (const task of tasks) dispatch({ type: 'upsert', task });
    return tasks;
  };

  const control = async (task: TaskInfo, action: TaskAction) => {
    try {
      dispatch({ type: 'upsert', task: await api.controlTask(task.task_id, action) });
    } catch (e) {
      setNotice(`Could not ${action} the task: ${describeError(e)}`);
    }
  };

  const selectedTask = selected ? list.byId[selected] : undefined;

  return (
    <div className="tasks-layout">
      <section className="tasks-view" aria-label="Tasks">
        {readOnly ? (
          <p className="hint" role="note">
            Read-only: this token can watch tasks but cannot queue, pause, resume or cancel them.
          </p>
        ) : null}
        <div className={`tasks-top${readOnly ? ' tasks-top-wide' : ''}`}>
          {readOnly ? null : (
            <TaskSubmitForm
              providers={providers}
              providersError={providersError}
              onSubmit={submit}
              {...(selectDirectory ? { selectDirectory } : {})}
            />
          )}
          <div className="panel task-metrics-panel">
            <h3>Metrics</h3>
            <TaskMetricsCharts metrics={metrics} error={metricsError} />
          </div>
        </div>
        {loadError ? (
          <p className="hint hint-warn" role="alert">
            Could not load tasks: {loadError}
          </p>
        ) : null}
        {notice ? (
          <div className="notice" role="alert">
            <span>{notice}</span>
            <button
              type="button"
              className="icon-button"
              aria-label="Dismiss"
              onClick={() => setNotice(null)}
            >
              ×
            </button>
          </div>
        ) : null}
        <div className="task-columns">
          <TaskList
            title="Queue"
            empty="Nothing waiting."
            tasks={groups.queue}
            {...{ selected, readOnly, now }}
            onSelect={setSelected}
            onAction={control}
          />
          <TaskList
            title="Running"
            empty="Nothing running."
            tasks={groups.running}
            {...{ selected, readOnly, now }}
            onSelect={setSelected}
            onAction={control}
          />
          <TaskList
            title="Finished"
            empty="No finished tasks yet."
            tasks={groups.finished}
            {...{ selected, readOnly, now }}
            onSelect={setSelected}
            onAction={control}
          />
        </div>
      </section>
      {selectedTask ? (
        <TaskDetailPanel
          task={selectedTask}
          detail={detail?.task.task_id === selectedTask.task_id ? detail : null}
          error={detailError}
          readOnly={readOnly}
          now={now}
          onAction={(action) => void control(selectedTask, action)}
          onClose={() => setSelected(null)}
        />
      ) : null}
    </div>
  );
}

function TaskList(props: {
  title: string;
  empty: string;
  tasks: TaskInfo[];
  selected: string | null;
  readOnly: boolean;
  now: number;
  onSelect(taskId: string): void;
  onAction(task: TaskInfo, action: TaskAction): void;
}) {
  const id = `task-list-${props.title.toLowerCase()}`;
  return (
    <section className="task-list panel" aria-labelledby={id} data-list={props.title.toLowerCase()}>
      <h3 id={id}>
        {props.title} <span className="count">{props.tasks.length}</span>
      </h3>
      {props.tasks.length === 0 ? (
        <p className="muted">{props.empty}</p>
      ) : (
        <ul className="plain-list">
          {props.tasks.map((task) => (
            <li
              key={task.task_id}
              className={`task-row${task.task_id === props.selected ? ' row-selected' : ''}`}
              data-task-id={task.task_id}
            >
              <button
                type="button"
                className="task-open"
                aria-current={task.task_id === props.selected ? 'true' : undefined}
                onClick={() => props.onSelect(task.task_id)}
              >
                <span className="task-row-head">
                  <ProviderIcon provider={task.cli_tool} size={14} />
                  <span className="task-title">{promptTitle(task.prompt)}</span>
                  <TaskStateBadge state={task.state} reason={task.error} />
                </span>
                <span className="task-meta muted">
                  {task.cli_tool} · priority {task.priority}
                  {task.started_at ? ` · ${formatDuration(taskElapsed(task, props.now))}` : ''}
                  {task.usage.cost_usd !== null ? ` · ${formatCost(task.usage.cost_usd)}` : ''}
                  {task.attempts > 1 ? ` · attempt ${task.attempts}` : ''}
                </span>
              </button>
              {!props.readOnly ? (
                <TaskControls task={task} onAction={(action) => props.onAction(task, action)} />
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
