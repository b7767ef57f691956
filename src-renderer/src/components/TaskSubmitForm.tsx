import { type FormEvent, useEffect, useMemo, useState } from 'react';
import type { ProviderSummary } from '../../../src-shared/rest.ts';
import type { SubmitTaskRequest, TaskInfo } from '../../../src-shared/tasks.ts';
import { describeError } from '../api/api-error.ts';
import { buildTaskRequests, oneShotProviders, splitPrompts, type TaskForm } from '../model/tasks.ts';
import { providerProblem, shortVersion } from './NewSessionDialog.tsx';

export interface TaskSubmitFormProps {
  providers: ProviderSummary[] | null;
  providersError: string | null;
  onSubmit(requests: SubmitTaskRequest[]): Promise<TaskInfo[]>;
  /** Native folder picker (desktop). */
  selectDirectory?: () => Promise<string | null>;
}

const INITIAL: TaskForm = {
  cli_tool: '',
  prompt: '',
  batch: false,
  working_directory: '',
  priority: '50',
  timeout_s: '600',
  full_access: false,
};

/** Queue one prompt, or one task per line in batch mode, on a provider with a one-shot mode. */
export function TaskSubmitForm({
  providers,
  providersError,
  onSubmit,
  selectDirectory,
}: TaskSubmitFormProps) {
  const usable = useMemo(() => oneShotProviders(providers ?? []), [providers]);
  const [form, setForm] = useState<TaskForm>(INITIAL);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  useEffect(() => {
    if (form.cli_tool || usable.length === 0) return;
    const first = usable.find((p) => p.installed) ?? usable[0];
    if (first) setForm((f) => ({ ...f, cli_tool: first.id }));
  }, [usable, form.cli_tool]);

  const provider = usable.find((p) => p.id === form.cli_tool);
  const problem = provider ? providerProblem(provider) : '';
  const count = splitPrompts(form.prompt, form.batch).length;
  const set = <K extends keyof TaskForm>(key: K, value: TaskForm[K]) =>
    setForm((f) => ({ ...f, [key]: value }));

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    if (busy) return;
    const built = buildTaskRequests(form, provider);
    if ('error' in built) {
      setError(built.error);
      setDone(null);
      return;
    }
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const tasks = await onSubmit(built.requests);
      setDone(`Queued ${tasks.length} task${tasks.length === 1 ? '' : 's'}.`);
      setForm((f) => ({ ...f, prompt: '' }));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="task-form panel" onSubmit={submit} aria-labelledby="task-form-title">
      <h3 id="task-form-title">New task</h3>
      <label className="field">
        <span>Provider</span>
        <select
          value={form.cli_tool}
          onChange={(e) => set('cli_tool', e.target.value)}
          aria-describedby="task-provider-status"
        >
          {usable.map((p) => (
            <option key={p.id} value={p.id}>
              {`${p.name} — ${p.installed ? `installed${p.version ? ` (${shortVersion(p.version)})` : ''}` : 'not installed'}`}
            </option>
          ))}
        </select>
      </label>
      <p
        id="task-provider-status"
        className={`hint ${problem ? 'hint-warn' : ''}`}
        role={problem ? 'alert' : undefined}
      >
        {providers === null
          ? providersError
            ? `Could not load providers: ${providersError}`
            : 'Loading providers…'
          : usable.length === 0
            ? 'No provider has a one-shot mode.'
            : problem
              ? `Cannot run: ${problem}.`
              : 'Runs in one-shot (print) mode; the result is collected.'}
      </p>
      <label className="field">
        <span>{form.batch ? 'Prompts (one task per line)' : 'Prompt'}</span>
        <textarea
          rows={form.batch ? 5 : 3}
          value={form.prompt}
          onChange={(e) => set('prompt', e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) void submit();
          }}
        />
      </label>
      <label className="field-check field-check-plain">
        <input type="checkbox" checked={form.batch} onChange={(e) => set('batch', e.target.checked)} />
        <span>Batch: one prompt per line</span>
      </label>
      <label className="field">
        <span>Working directory</span>
        <span className="field-row">
          <input
            type="text"
            value={form.working_directory}
            placeholder="Absolute path; default: the home directory"
            spellCheck={false}
            onChange={(e) => set('working_directory', e.target.value)}
          />
          {selectDirectory ? (
            <button
              type="button"
              className="button"
              onClick={async () => {
                const picked = await selectDirectory();
                if (picked) set('working_directory', picked);
              }}
            >
              Browse…
            </button>
          ) : null}
        </span>
      </label>
      <div className="field-pair">
        <label className="field">
          <span>Priority (0–100)</span>
          <input
            type="number"
            min={0}
            max={100}
            step={1}
            value={form.priority}
            onChange={(e) => set('priority', e.target.value)}
          />
        </label>
        <label className="field">
          <span>Timeout (s)</span>
          <input
            type="number"
            min={1}
            max={86400}
            value={form.timeout_s}
            onChange={(e) => set('timeout_s', e.target.value)}
          />
        </label>
      </div>
      <label className="field field-check">
        <input
          type="checkbox"
          checked={form.full_access}
          disabled={!provider?.supports_full_access}
          onChange={(e) => set('full_access', e.target.checked)}
          aria-describedby="task-full-access-warning"
        />
        <span>Full access (no permission prompts)</span>
      </label>
      <p
        id="task-full-access-warning"
        className={`hint ${form.full_access ? 'hint-danger' : ''}`}
        role={form.full_access ? 'alert' : undefined}
      >
        {provider && !provider.supports_full_access
          ? `${provider.name} has no full-access mode.`
          : form.full_access
            ? 'Warning: the agent will run commands, edit and delete files and use the network without asking anyone. Use it only in a directory you can afford to lose.'
            : 'Without full access the agent may stop where it would need permission.'}
      </p>
      {error ? (
        <p className="hint hint-danger" role="alert">
          {error}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="submit" className="button button-primary" disabled={busy || !provider}>
          {busy ? 'Queueing…' : count > 1 ? `Queue ${count} tasks` : 'Queue task'}
        </button>
        <span role="status" className="muted">
          {done}
        </span>
      </div>
    </form>
  );
}
