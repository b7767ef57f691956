import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { AutoDevApi } from '../../../../src-shared/api.ts';
import type { SessionInfo } from '../../../../src-shared/session.ts';
import type { ChangesResponse, MergeStrategy } from '../../../../src-shared/worktrees.ts';
import { describeError } from '../../api/api-error.ts';
import {
  counts,
  type DiffViewType,
  loadViewType,
  saveViewType,
  shortCommit,
  statusLetter,
} from './changes-model.ts';
import { DiffView } from './DiffView.tsx';
import './changes.css';

/** How long live events are gathered before the changes are read again (latest answer wins). */
const REFRESH_DELAY_MS = 250;

interface Problem {
  message: string;
  files: string[];
}

function problemOf(error: unknown): Problem {
  const files = (error as { files?: unknown }).files;
  return {
    message: describeError(error).replace(/^\[[A-Z_]+\]\s*/, ''),
    files: Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string') : [],
  };
}

const storage = (): Storage | null => {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
};

/**
 * A session's worktree changes: the files with their counts, the diff (unified or side by side, with
 * syntax colour), and — with a control token — commit, merge into the base, discard. It reads the
 * changes again whenever the events channel says the worktree changed, so it is always current.
 */
export function ChangesPanel({
  api,
  session,
  readOnly,
}: {
  api: AutoDevApi;
  session: SessionInfo;
  readOnly: boolean;
}) {
  const sessionId = session.session_id;
  const [data, setData] = useState<ChangesResponse | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [single, setSingle] = useState<ChangesResponse | null>(null);
  const [viewType, setViewType] = useState<DiffViewType>(() => loadViewType(storage()));
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState('');
  const [strategy, setStrategy] = useState<MergeStrategy>('squash');
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const [updates, setUpdates] = useState(0);
  const generation = useRef(0);

  const load = useCallback(async () => {
    const mine = ++generation.current;
    try {
      const next = await api.getChanges(sessionId);
      if (mine !== generation.current) return; // a newer read is under way
      setData(next);
      setLoadError(null);
      setUpdates((n) => n + 1);
    } catch (error) {
      if (mine === generation.current) setLoadError(describeError(error));
    }
  }, [api, sessionId]);

  useEffect(() => {
    void load();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = api.onEvent((event) => {
      if (event.kind !== 'worktree_changes' || event.session_id !== sessionId) return;
      clearTimeout(timer);
      timer = setTimeout(() => void load(), REFRESH_DELAY_MS);
    });
    return () => {
      clearTimeout(timer);
      off();
    };
  }, [api, sessionId, load]);

  // A file cut short in the whole diff is read alone (larger cap) when selected.
  const selectedFile = data?.files.find((f) => f.path === selected) ?? null;
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-read when the changes were re-read
  useEffect(() => {
    setSingle(null);
    if (!selectedFile?.truncated) return;
    let cancelled = false;
    api
      .getChanges(sessionId, { path: selectedFile.path })
      .then((one) => !cancelled && setSingle(one))
      .catch(() => {});
    return () => {
      cancelled = true;
    };
  }, [api, sessionId, selectedFile?.path, selectedFile?.truncated, updates]);

  const shownDiff =
    selected && single && single.files[0]?.path === selected ? single.diff : (data?.diff ?? '');
  const truncatedPaths = useMemo(
    () =>
      new Set(
        (data?.files ?? [])
          .filter(
            (f) => f.truncated && !(single && single.files[0]?.path === f.path && !single.files[0].truncated),
          )
          .map((f) => f.path),
      ),
    [data, single],
  );

  const act = async (label: string, fn: () => Promise<string>) => {
    setBusy(label);
    setProblem(null);
    setNotice(null);
    try {
      setNotice(await fn());
      await load();
    } catch (error) {
      setProblem(problemOf(error));
    } finally {
      setBusy(null);
    }
  };

  const wt = session.worktree;
  if (!wt) return <p className="muted">This session does not run in a worktree.</p>;
  const canCommit = !readOnly && (data?.uncommitted_files ?? 0) > 0 && message.trim().length > 0;
  const canMerge = !readOnly && (data?.ahead ?? 0) > 0;

  return (
    <section className="changes-panel" aria-label={`Changes of ${session.name}`} data-updates={updates}>
      <header className="changes-header">
        <div className="changes-branch">
          <span className="mono" title={wt.path}>
            {wt.branch}
          </span>
          <span className="muted"> → {wt.base}</span>
          {data ? (
            <span className="changes-summary" data-field="summary">
              {' '}
              · {data.files.length} file{data.files.length === 1 ? '' : 's'} ·{' '}
              <span className="changes-add">+{data.additions}</span>{' '}
              <span className="changes-del">−{data.deletions}</span> · {data.ahead} ahead, {data.behind}{' '}
              behind
              {data.uncommitted_files > 0 ? ` · ${data.uncommitted_files} uncommitted` : ''}
            </span>
          ) : null}
        </div>
        <fieldset className="changes-view-toggle" aria-label="Diff layout">
          {(['unified', 'split'] as const).map((v) => (
            <button
              key={v}
              type="button"
              className={`button ${viewType === v ? 'button-primary' : ''}`}
              aria-pressed={viewType === v}
              onClick={() => {
                setViewType(v);
                saveViewType(storage(), v);
              }}
            >
              {v === 'unified' ? 'Unified' : 'Side by side'}
            </button>
          ))}
        </fieldset>
      </header>

      {readOnly ? (
        <p className="hint">
          Read-only access: you can review these changes but not commit, merge or discard them.
        </p>
      ) : (
        <div className="changes-actions">
          <form
            className="changes-commit"
            aria-label="Commit"
            onSubmit={(e) => {
              e.preventDefault();
              if (!canCommit) return;
              void act('commit', async () => {
                const r = await api.commitChanges(sessionId, message.trim());
                setMessage('');
                return `Committed ${r.files} file${r.files === 1 ? '' : 's'} as ${shortCommit(r.commit)} on ${r.branch}.`;
              });
            }}
          >
            <input
              type="text"
              aria-label="Commit message"
              placeholder="Commit message"
              value={message}
              maxLength={10_000}
              onChange={(e) => setMessage(e.target.value)}
            />
            <button type="submit" className="button" disabled={!canCommit || busy !== null}>
              {busy === 'commit' ? 'Committing…' : 'Commit all'}
            </button>
          </form>
          <div className="changes-merge">
            <select
              aria-label="Merge strategy"
              value={strategy}
              onChange={(e) => setStrategy(e.target.value as MergeStrategy)}
            >
              <option value="squash">Squash</option>
              <option value="merge">Merge commit</option>
              <option value="rebase">Rebase</option>
            </select>
            <button
              type="button"
              className="button button-primary"
              disabled={!canMerge || busy !== null}
              onClick={() =>
                void act('merge', async () => {
                  const r = await api.mergeChanges(sessionId, { strategy });
                  return `Merged into ${r.base} (${r.strategy}): ${r.base} is now ${shortCommit(r.base_commit)}${
                    r.updated_checkout ? `; ${r.updated_checkout} updated` : ''
                  }.`;
                })
              }
            >
              {busy === 'merge' ? 'Merging…' : `Merge into ${wt.base}`}
            </button>
          </div>
          {confirmDiscard ? (
            <fieldset className="changes-confirm" aria-label="Confirm discard">
              <span>Discard every change on {wt.branch}? (It is kept under a ref you can restore.)</span>
              <button
                type="button"
                className="button button-danger"
                disabled={busy !== null}
                onClick={() => {
                  setConfirmDiscard(false);
                  void act('discard', async () => {
                    const r = await api.discardChanges(sessionId);
                    return `Discarded: reset to ${shortCommit(r.reset_to)}${r.saved_ref ? `; kept under ${r.saved_ref}` : ''}.`;
                  });
                }}
              >
                Discard
              </button>
              <button type="button" className="button" onClick={() => setConfirmDiscard(false)}>
                Keep
              </button>
            </fieldset>
          ) : (
            <button
              type="button"
              className="button"
              disabled={busy !== null || (data?.files.length ?? 0) === 0}
              onClick={() => setConfirmDiscard(true)}
            >
              Discard…
            </button>
          )}
        </div>
      )}

      {notice ? (
        <p className="hint changes-notice" role="status">
          {notice}
        </p>
      ) : null}
      {problem ? (
        <div className="hint hint-danger changes-problem" role="alert">
          <p>{problem.message}</p>
          {problem.files.length > 0 ? (
            <ul aria-label="Files concerned" className="mono">
              {problem.files.map((f) => (
                <li key={f}>{f}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {loadError ? (
        <p className="hint hint-warn" role="alert">
          {loadError}
        </p>
      ) : null}

      <div className="changes-body">
        <nav className="changes-files" aria-label="Changed files">
          <button
            type="button"
            className={`changes-file ${selected === null ? 'is-selected' : ''}`}
            aria-pressed={selected === null}
            onClick={() => setSelected(null)}
          >
            <span className="changes-file-path">All files</span>
          </button>
          <ul>
            {(data?.files ?? []).map((f) => (
              <li key={f.path}>
                <button
                  type="button"
                  className={`changes-file ${selected === f.path ? 'is-selected' : ''}`}
                  aria-pressed={selected === f.path}
                  data-path={f.path}
                  title={f.old_path ? `${f.old_path} → ${f.path}` : f.path}
                  onClick={() => setSelected(f.path)}
                >
                  <span
                    className={`changes-status changes-status-${f.status}`}
                    title={f.status}
                    data-status={f.status}
                  >
                    {statusLetter(f.status)}
                  </span>
                  <span className="changes-file-path mono">{f.path}</span>
                  <span className="changes-file-counts" data-field="counts">
                    {counts(f)}
                  </span>
                  {f.uncommitted ? (
                    <span className="changes-badge" title="Not committed yet">
                      uncommitted
                    </span>
                  ) : null}
                </button>
              </li>
            ))}
          </ul>
          {data && data.files.length === 0 ? <p className="muted">No changes against {wt.base}.</p> : null}
          {data?.truncated ? (
            <p className="hint">
              The diff was too large to show whole: select a file marked “cut short” to see it alone.
            </p>
          ) : null}
        </nav>
        <div className="changes-diff-area">
          {data ? (
            <DiffView diff={shownDiff} viewType={viewType} truncatedPaths={truncatedPaths} only={selected} />
          ) : loadError ? null : (
            <p className="muted">Loading changes…</p>
          )}
        </div>
      </div>
    </section>
  );
}
