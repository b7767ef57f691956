import type { ProviderSummary } from '../../../src-shared/rest.ts';
import {
  FINAL_TASK_STATES,
  type SubmitTaskRequest,
  type TaskInfo,
  type TaskState,
} from '../../../src-shared/tasks.ts';

/**
 * The tasks view's pure logic: which list a task belongs in, how its badge looks, how live events
 * merge with a loaded page, what the controls allow, and how the submit form becomes requests.
 */

export type TaskGroup = 'queue' | 'running' | 'finished';

export function taskGroup(task: Pick<TaskInfo, 'state' | 'started_at'>): TaskGroup {
  if (FINAL_TASK_STATES.has(task.state)) return 'finished';
  if (task.state === 'queued') return 'queue';
  // A task paused before it ever started is still waiting in the queue.
  if (task.state === 'paused' && !task.started_at) return 'queue';
  return 'running';
}

/** Badge kinds reuse the session badge styles (colour + text), plus `passed`. */
export type TaskBadgeKind = 'starting' | 'processing' | 'waiting' | 'error' | 'exited' | 'passed';

export interface TaskBadge {
  kind: TaskBadgeKind;
  label: string;
  animated: boolean;
}

const BADGES: Readonly<Record<TaskState, TaskBadge>> = {
  queued: { kind: 'starting', label: 'Queued', animated: false },
  starting: { kind: 'processing', label: 'Starting', animated: true },
  running: { kind: 'processing', label: 'Running', animated: true },
  paused: { kind: 'waiting', label: 'Paused', animated: false },
  completing: { kind: 'processing', label: 'Completing', animated: true },
  passed: { kind: 'passed', label: 'Passed', animated: false },
  failed: { kind: 'error', label: 'Failed', animated: false },
  error: { kind: 'error', label: 'Error', animated: false },
  cancelled: { kind: 'exited', label: 'Cancelled', animated: false },
  timeout: { kind: 'error', label: 'Timed out', animated: false },
};

export function taskBadge(state: TaskState): TaskBadge {
  return BADGES[state];
}

export type TaskAction = 'cancel' | 'pause' | 'resume';

/** What the service accepts in each state (src-main/core/tasks/task-service.ts `_control`). */
export function allowedActions(state: TaskState): TaskAction[] {
  if (FINAL_TASK_STATES.has(state)) return [];
  if (state === 'paused') return ['resume', 'cancel'];
  if (state === 'queued' || state === 'running') return ['pause', 'cancel'];
  return ['cancel'];
}

// ---- the live list -----------------------------------------------------------------------------

export interface TaskListState {
  byId: Readonly<Record<string, TaskInfo>>;
  loaded: boolean;
}

export type TaskListAction =
  | { type: 'loaded'; tasks: readonly TaskInfo[] }
  | { type: 'upsert'; task: TaskInfo };

export const INITIAL_TASK_LIST: TaskListState = { byId: {}, loaded: false };

/**
 * How far along a task is: attempts first (a retry re-queues with attempts + 1), then the phase.
 * A page loaded over REST and live events race; the further-along copy wins, so a late page never
 * rolls a finished task back to running.
 */
function progress(task: TaskInfo): number {
  const phase = FINAL_TASK_STATES.has(task.state) ? 3 : task.state === 'queued' ? 1 : 2;
  return task.attempts * 10 + phase;
}

function merge(current: TaskInfo | undefined, incoming: TaskInfo, incomingIsLive: boolean): TaskInfo {
  if (!current) return incoming;
  const a = progress(current);
  const b = progress(incoming);
  if (b > a) return incoming;
  if (b < a) return current;
  // Same phase (running ↔ paused, queued ↔ paused): a live event is the newer news.
  return incomingIsLive ? incoming : current;
}

export function taskListReducer(state: TaskListState, action: TaskListAction): TaskListState {
  switch (action.type) {
    case 'loaded': {
      const byId: Record<string, TaskInfo> = { ...state.byId };
      for (const task of action.tasks) byId[task.task_id] = merge(byId[task.task_id], task, false);
      return { byId, loaded: true };
    }
    case 'upsert': {
      const current = state.byId[action.task.task_id];
      const next = merge(current, action.task, true);
      if (next === current) return state;
      return { ...state, byId: { ...state.byId, [action.task.task_id]: next } };
    }
  }
}

/** A live event's payload is `unknown` in the protocol: accept it only if it looks like a task. */
export function asTaskInfo(value: unknown): TaskInfo | null {
  if (!value || typeof value !== 'object') return null;
  const t = value as Partial<TaskInfo>;
  return typeof t.task_id === 'string' && typeof t.state === 'string' && typeof t.cli_tool === 'string'
    ? (value as TaskInfo)
    : null;
}

export interface GroupedTasks {
  queue: TaskInfo[];
  running: TaskInfo[];
  finished: TaskInfo[];
}

/** Queue in run order (priority high first, FIFO within a priority), running oldest first, finished newest first. */
export function groupTasks(byId: Readonly<Record<string, TaskInfo>>, finishedLimit = 200): GroupedTasks {
  const out: GroupedTasks = { queue: [], running: [], finished: [] };
  for (const task of Object.values(byId)) out[taskGroup(task)].push(task);
  out.queue.sort((a, b) => b.priority - a.priority || a.created_at.localeCompare(b.created_at));
  out.running.sort((a, b) => (a.started_at ?? a.created_at).localeCompare(b.started_at ?? b.created_at));
  out.finished.sort((a, b) => (b.ended_at ?? b.created_at).localeCompare(a.ended_at ?? a.created_at));
  out.finished.length = Math.min(out.finished.length, finishedLimit);
  return out;
}

// ---- submit form --------------------------------------------------------------------------------

export interface TaskForm {
  cli_tool: string;
  prompt: string;
  /** One task per non-empty line of `prompt`. */
  batch: boolean;
  working_directory: string;
  priority: string;
  timeout_s: string;
  full_access: boolean;
}

export function oneShotProviders(providers: readonly ProviderSummary[]): ProviderSummary[] {
  return providers.filter((p) => p.supports_one_shot);
}

export function splitPrompts(text: string, batch: boolean): string[] {
  if (!batch) return text.trim() ? [text] : [];
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** The form as requests, or the first problem in words (checked again by the server). */
export function buildTaskRequests(
  form: TaskForm,
  provider: Pick<ProviderSummary, 'supports_full_access'> | undefined,
): { requests: SubmitTaskRequest[] } | { error: string } {
  if (!form.cli_tool) return { error: 'Choose a provider.' };
  const prompts = splitPrompts(form.prompt, form.batch);
  if (prompts.length === 0) return { error: 'Write a prompt.' };
  if (prompts.length > 1000) return { error: 'At most 1000 prompts per batch.' };
  const priority = Number(form.priority);
  if (!Number.isInteger(priority) || priority < 0 || priority > 100)
    return { error: 'Priority must be a whole number from 0 to 100.' };
  const timeout = Number(form.timeout_s);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 86_400)
    return { error: 'Timeout must be between 1 and 86400 seconds.' };
  const dir = form.working_directory.trim();
  if (dir && !dir.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(dir))
    return { error: 'The working directory must be an absolute path.' };
  const requests = prompts.map((prompt): SubmitTaskRequest => {
    const request: SubmitTaskRequest = {
      cli_tool: form.cli_tool,
      prompt,
      priority,
      timeout_s: timeout,
      mode: 'async',
      full_access: form.full_access && provider?.supports_full_access === true,
    };
    if (dir) request.working_directory = dir;
    return request;
  });
  return { requests };
}

// ---- formatting ---------------------------------------------------------------------------------

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 60) return `${m} min ${rest} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return '—';
  if (usd === 0) return '$0';
  // Small runs cost fractions of a cent: keep four significant decimals there.
  return usd < 1 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function formatCount(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return Math.round(n).toLocaleString('en-US');
}

export function formatPercent(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  return `${(ratio * 100).toFixed(ratio === 1 || ratio === 0 ? 0 : 1)}%`;
}

/** Duration of a task: the measured one when final, else the time since it started (live). */
export function taskElapsed(task: TaskInfo, now: number): number | null {
  if (task.duration_ms !== null) return task.duration_ms;
  if (!task.started_at) return null;
  const end = task.ended_at ? Date.parse(task.ended_at) : now;
  return Math.max(0, end - Date.parse(task.started_at));
}

/** First line of the prompt, bounded: the list shows that, the detail shows it all. */
export function promptTitle(prompt: string, max = 80): string {
  const line = prompt.split(/\r?\n/, 1)[0]?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line || '(empty prompt)';
}
