import { useEffect, useState } from 'react';
import type { AutoDevApi } from '../../../src-shared/api.ts';
import type { HistoryEntry } from '../../../src-shared/rest.ts';
import type { SessionDiagnostics, SessionInfo } from '../../../src-shared/session.ts';
import { describeError } from '../api/api-error.ts';
import { canResume } from '../api/session-actions.ts';
import { useNow } from '../hooks/use-now.ts';
import { submittedLines } from '../model/replay.ts';
import { formatAge } from '../model/session-filter.ts';
import { hasEnded } from '../model/session-life.ts';
import { badgeFor } from '../model/state-badge.ts';
import { ChangesPanel } from './changes/ChangesPanel.tsx';
import { RefreshIcon, ReplayIcon, ResumeIcon, TerminalIcon, TrashIcon } from './Icons.tsx';
import { Modal } from './Modal.tsx';
import { ProviderIcon } from './ProviderIcon.tsx';
import { StateBadge } from './StateBadge.tsx';
import { SessionUsagePanel } from './UsagePanels.tsx';
import type { SessionActions } from './Workspace.tsx';

/**
 * Everything about one session: state and why, process, resources, limits, commands. A running
 * session offers Open and Terminate; an ended one Replay, Resume (when resumable) and Remove — no
 * resource figures or Terminate for a process that is gone.
 */
export function SessionDetail({
  api,
  session,
  readOnly,
  actions,
  showOpen = false,
  onTerminate,
}: {
  api: AutoDevApi;
  session: SessionInfo;
  readOnly: boolean;
  actions: SessionActions;
  /** Offer "Open terminal" (the Sessions page; beside a terminal it is already open). */
  showOpen?: boolean;
  onTerminate?: () => void;
}) {
  const now = useNow(1000);
  const [diag, setDiag] = useState<SessionDiagnostics | null>(null);
  const [history, setHistory] = useState<HistoryEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Resource figures are sampled by the server; re-read them on request (states arrive as events).
  const [refresh, setRefresh] = useState(0);
  const [changesOpen, setChangesOpen] = useState(false);
  const ended = hasEnded(session);

  // biome-ignore lint/correctness/useExhaustiveDependencies: refresh when the session's state changes
  useEffect(() => {
    let cancelled = false;
    setError(null);
    // Diagnostics sample a live process tree; an ended session has none (and the server may not know it).
    if (!ended)
      api
        .getDiagnostics(session.session_id)
        .then((d) => !cancelled && setDiag(d))
        .catch((e) => !cancelled && setError(`Could not read the process figures: ${describeError(e)}`));
    else setDiag(null);
    api
      .getHistory(session.session_id, { message_type: 'command', limit: 200 })
      .then((h) => !cancelled && setHistory(h))
      .catch(() => !cancelled && setHistory(null));
    return () => {
      cancelled = true;
    };
  }, [api, session.session_id, session.state, ended, refresh]);

  const badge = badgeFor(session);
  // Submitted lines, not the key journal (model/replay.ts decides which entries are lines).
  const commands = history
    ? submittedLines(
        history.filter(
          (h): h is Extract<HistoryEntry, { message_type: 'command' }> => h.message_type === 'command',
        ),
      ).map((h, n) => ({ id: `${n}`, at: h.at, text: h.command }))
    : session.command_history.map((text, n) => ({ id: `${n}`, at: '', text }));
  const usage = diag?.resource_usage;
  const limits = diag?.limits;

  return (
    <aside className="session-detail" aria-label={`Details of ${session.name}`}>
      <header className="detail-header">
        <ProviderIcon provider={session.cli_tool} size={22} />
        <h2>{session.name}</h2>
        <StateBadge session={session} />
      </header>
      <dl className="detail-grid">
        <dt>State</dt>
        <dd data-field="state">
          {session.state}
          {session.authentication_required ? ' (authentication required)' : ''}
        </dd>
        <dt>Why</dt>
        <dd data-field="reason">
          {badge.detail || session.state_reason.detail || '—'}{' '}
          <span className="muted">
            ({session.state_reason.source}
            {session.state_reason.rule ? ` · ${session.state_reason.rule}` : ''},{' '}
            {formatAge(session.state_reason.at, now)} ago)
          </span>
        </dd>
        {session.auth_prompt ? (
          <>
            <dt>Agent prompt</dt>
            <dd>
              <pre className="prompt-text">{session.auth_prompt}</pre>
            </dd>
          </>
        ) : null}
        <dt>Provider</dt>
        <dd>
          {session.cli_tool}
          {session.full_access ? <strong className="danger-text"> · full access</strong> : null}
        </dd>
        {!ended ? (
          <>
            <dt>PID</dt>
            <dd data-field="pid">{session.pid ?? '—'}</dd>
          </>
        ) : null}
        <dt>Directory</dt>
        <dd className="mono">{session.current_directory}</dd>
        {session.worktree ? (
          <>
            <dt>Worktree</dt>
            <dd data-field="worktree">
              <span className="mono">{session.worktree.branch}</span> from{' '}
              <span className="mono">{session.worktree.base}</span>{' '}
              <button type="button" className="button button-small" onClick={() => setChangesOpen(true)}>
                Changes
              </button>
            </dd>
          </>
        ) : null}
        <dt>Started</dt>
        <dd data-field="started">{session.started_at ? `${formatAge(session.started_at, now)} ago` : '—'}</dd>
        <dt>Last activity</dt>
        <dd data-field="last-activity">{formatAge(session.last_activity, now)} ago</dd>
        {ended ? (
          <>
            <dt>Exit</dt>
            <dd data-field="exit">
              {session.exit_code !== null ? `code ${session.exit_code}` : 'unknown'}
              {session.exit_signal ? ` signal ${session.exit_signal}` : ''}
              {session.ended_at ? ` · ${formatAge(session.ended_at, now)} ago` : ''}
            </dd>
          </>
        ) : (
          <>
            <dt>Resources</dt>
            <dd data-field="resources">
              {usage
                ? `${usage.memory_mb.toFixed(0)} MB · ${usage.cpu_percent.toFixed(0)}% CPU · ${usage.num_processes} proc · ${usage.num_fds} fds`
                : 'not sampled yet'}{' '}
              <button
                type="button"
                className="icon-button"
                aria-label="Refresh resource usage"
                title="Refresh"
                onClick={() => setRefresh((n) => n + 1)}
              >
                <RefreshIcon />
              </button>
            </dd>
            <dt>Limits</dt>
            <dd>{limits ? formatLimits(limits) : '—'}</dd>
          </>
        )}
        {diag && diag.recent_errors.length > 0 ? (
          <>
            <dt>Recent errors</dt>
            <dd>
              <ul className="plain-list">
                {diag.recent_errors.slice(-5).map((e) => (
                  <li key={`${e.at}-${e.error_code}`}>
                    <code>{e.error_code}</code> {e.error}
                  </li>
                ))}
              </ul>
            </dd>
          </>
        ) : null}
      </dl>
      {error ? (
        <p className="hint hint-warn" role="alert">
          {error}
        </p>
      ) : null}
      <SessionUsagePanel api={api} sessionId={session.session_id} />
      <h3>Command history</h3>
      {commands.length === 0 ? (
        <p className="muted">No commands yet.</p>
      ) : (
        <ol className="command-history">
          {commands.slice(-50).map((c) => (
            <li key={c.id} className="mono">
              {c.text}
            </li>
          ))}
        </ol>
      )}
      <div className="detail-actions">
        {!ended && showOpen ? (
          <button
            type="button"
            className="button button-primary"
            onClick={() => actions.open(session.session_id)}
          >
            <TerminalIcon size={14} /> Open terminal
          </button>
        ) : null}
        {ended ? (
          <button
            type="button"
            className="button button-primary"
            onClick={() => actions.replay(session.session_id)}
          >
            <ReplayIcon size={14} /> Replay
          </button>
        ) : null}
        {ended && !readOnly && actions.resume && canResume(api, session) ? (
          <button type="button" className="button" onClick={() => actions.resume?.(session.session_id)}>
            <ResumeIcon size={14} /> Resume
          </button>
        ) : null}
        {ended ? (
          <button type="button" className="button" onClick={() => actions.remove(session.session_id)}>
            <TrashIcon size={14} /> Remove
          </button>
        ) : null}
        {!ended && !readOnly && onTerminate ? (
          <button type="button" className="button button-danger" onClick={onTerminate}>
            Terminate
          </button>
        ) : null}
      </div>
      {changesOpen ? (
        <Modal
          title={`Changes — ${session.name}`}
          className="changes-modal"
          onClose={() => setChangesOpen(false)}
        >
          <ChangesPanel api={api} session={session} readOnly={readOnly} />
          <div className="dialog-actions">
            <button type="button" className="button" onClick={() => setChangesOpen(false)}>
              Close
            </button>
          </div>
        </Modal>
      ) : null}
    </aside>
  );
}

export function formatLimits(limits: SessionDiagnostics['limits']): string {
  const parts = [
    limits.idle_timeout_s ? `idle ${limits.idle_timeout_s} s` : null,
    limits.max_run_time_s ? `run ${limits.max_run_time_s} s` : null,
    limits.max_memory_mb ? `${limits.max_memory_mb} MB` : null,
    limits.max_cpu_percent ? `${limits.max_cpu_percent}% CPU` : null,
    limits.max_fds ? `${limits.max_fds} fds` : null,
  ].filter(Boolean);
  return parts.length ? parts.join(' · ') : 'none';
}
